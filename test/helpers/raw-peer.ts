import { Dealer } from 'zeromq';
import { ddp } from '../../proto/generated/ddp.js';
import type { OmniglotData } from '../../shared/dataset/omniglot.js';
import { taskId as toTaskId, stepId as toStepId, type TaskId } from '../../shared/protocol/ids.js';
import { modelSpec, type ModelKind } from '../../shared/model/model-spec.js';
import { decodeMessage, encodeMessage } from '../../shared/protocol/codec.js';
import type { Gradients, Hello, Message } from '../../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.js';
import type { NamedTensor } from '../../shared/common/named-tensor.js';

/**
 * A hand-driven peer of the coordinator: a raw Dealer that sends whatever bytes a test wants and queues what it
 * receives, so hostile input can be sent exactly, without the real worker's manners.
 */
export class RawPeer {
  readonly socket: Dealer;
  private readonly inbox: Message[] = [];
  private wake: (() => void) | undefined;
  private beats: NodeJS.Timeout | undefined;

  /** `behave`, when given, is called on each message in arrival order (after it is queued for `next`). */
  constructor(endpoint: string, private readonly behave?: (m: Message, peer: RawPeer) => void | Promise<void>) {
    this.socket = new Dealer({ linger: 0, sendHighWaterMark: 0, sendTimeout: 2000 });
    this.socket.connect(endpoint);
    void this.read();
  }

  private async read(): Promise<void> {
    try {
      for await (const [frame] of this.socket) {
        const decoded = frame ? decodeMessage(frame) : undefined;
        if (decoded?.ok) {
          this.inbox.push(decoded.message);
          await this.behave?.(decoded.message, this);
        }
        this.wake?.();
      }
    } catch {
      // closed
    }
  }

  send(frame: Uint8Array | Message): Promise<void> {
    return this.socket.send(frame instanceof Uint8Array ? frame : encodeMessage(frame));
  }

  /** The next received message of `type` (earlier ones of other types are dropped). */
  async next<T extends Message['type']>(type: T, timeoutMs = 10_000): Promise<Extract<Message, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<Message, { type: T }>;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no '${type}' within ${timeoutMs} ms (inbox: ${this.inbox.map((m) => m.type).join(',')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
    }
  }

  /** Heartbeats every `intervalMs` for as long as `until` says false, as a live worker's socket thread would. */
  beat(intervalMs: number, until: () => boolean = () => false): void {
    clearInterval(this.beats);
    this.beats = setInterval(() => {
      if (until()) clearInterval(this.beats);
      else void this.send({ type: 'heartbeat', sentAtMs: Date.now() }).catch(() => undefined);
    }, intervalMs);
  }

  close(): void {
    clearInterval(this.beats);
    this.socket.close();
  }
}

export function validHello(data: OmniglotData, modelKind: ModelKind = 'two-output', overrides: Partial<Hello> = {}): Hello {
  return { type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: 'raw', datasetFingerprint: data.fingerprint,
    workerName: 'raw-peer', modelKind, host: 'test', pid: 1, ...overrides };
}

/** Zero gradients of the right names and shapes, and head stats that count `samples`: valid, and move nothing. */
export function zeroGradients(task: TaskId | number, step: number, samples: number, modelKind: ModelKind = 'two-output'): Gradients {
  const spec = modelSpec(modelKind);
  const grads: NamedTensor[] = spec.params.map((p) => ({ name: p.name, shape: [...p.shape],
    data: new Float32Array(p.shape.reduce((n, d) => n * d, 1)) }));
  return { type: 'gradients', taskId: toTaskId(task), stepId: toStepId(step), sampleCount: samples, grads,
    heads: spec.heads.map((head) => ({ head, lossSum: 0, correct: 0, count: samples })), computeMs: 1 };
}

/** An envelope built field by field, for frames the codec would never produce (wrong byte lengths, no body). */
export function rawEnvelope(properties: ddp.v1.Envelope.$Properties): Uint8Array {
  return ddp.v1.Envelope.encode(properties).finish();
}
