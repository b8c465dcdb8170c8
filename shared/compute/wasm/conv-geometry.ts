import type { NamedAttrMap } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';

export interface ConvGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly pad: { readonly top: number; readonly bottom: number; readonly left: number; readonly right: number };
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function isPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number');
}

function readPad(kernelName: string, pad: unknown): Pad {
  if (pad === 'same' || pad === 'valid' || typeof pad === 'number') return pad;
  if (Array.isArray(pad) && pad.length === 4 && pad.every(isPair)) return pad as Pad;
  throw new Error(`${kernelName}: unsupported pad ${JSON.stringify(pad)}`);
}

function isOnes(v: unknown): boolean {
  return v === undefined || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
}

/** Why the im2col kernels cannot run a conv with these attrs (NHWC, stride 1, dilation 1 only), or undefined. */
export function im2colUnsupported(attrs: NamedAttrMap): string | undefined {
  const { strides, dilations, dataFormat } = attrs;
  if (!isOnes(strides)) return `only stride 1 is supported, got ${JSON.stringify(strides)}`;
  if (!isOnes(dilations)) return `only dilation 1 is supported, got ${JSON.stringify(dilations)}`;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return `only NHWC is supported, got ${String(dataFormat)}`;
  return undefined;
}

/**
 * Output size and padding of a conv, via tfjs's own computeConv2DInfo so that padding matches every backend
 * exactly. The im2col kernels handle NHWC, stride 1 and dilation 1 only; anything else throws, naming the attr.
 */
export function convGeometry(
  tf: TfModule,
  kernelName: string,
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: NamedAttrMap,
): ConvGeometry {
  const { dimRoundingMode } = attrs;
  const unsupported = im2colUnsupported(attrs);
  if (unsupported !== undefined) throw new Error(`${kernelName} on wasm (im2col): ${unsupported}`);
  if (xShape.length !== 4 || filterShape.length !== 4) throw new Error(`${kernelName}: x and filter must be rank 4`);
  const rounding =
    dimRoundingMode === 'floor' || dimRoundingMode === 'round' || dimRoundingMode === 'ceil' ? (dimRoundingMode as 'floor' | 'round' | 'ceil') : undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    1,
    1,
    readPad(kernelName, attrs['pad']),
    rounding,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    pad: { top: info.padInfo.top, bottom: info.padInfo.bottom, left: info.padInfo.left, right: info.padInfo.right },
  };
}
