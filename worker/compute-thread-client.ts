import { Worker } from 'node:worker_threads';
import type { ActiveBackend, BackendChoice } from '../shared/compute/backend.js';
import type { OmniglotData, Split } from '../shared/dataset/omniglot.js';
import { DdpError } from '../shared/common/errors.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import type { EvalRequest, StepAssignment, StepUpdate } from '../shared/protocol/messages.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { movableBuffers, type ComputeInit, type ComputeReport, type ComputeRequest } from './compute-messages.js';
import type { ComputeEngine, ComputeEvents, ReplicaStart } from './compute-engine.js';

export interface ComputeThreadOptions {
  readonly modelKind: ModelKind;
  readonly backend: BackendChoice;
  readonly data: OmniglotData;
  readonly microBatch: number;
  /** Test hook: see ComputeInit.delayMsPerTask. */
  readonly delayMsPerTask?: number;
  /** Test hook: see ComputeInit.corruptReplicaAtVersion. */
  readonly corruptReplicaAtVersion?: number;
}

type ThreadState = 'running' | 'ended';

const THREAD_FILE = new URL('./compute-thread.js', import.meta.url);

/**
 * A worker's compute thread as its socket thread sees it: the model runs there, so a task that takes minutes never
 * holds up heartbeats. Ending it (terminate) abandons the task in flight with the thread's memory, model included;
 * nothing is disposed under a running step.
 */
export class ComputeThread implements ComputeEngine {
  private state: ThreadState = 'running';

  private constructor(private readonly thread: Worker, readonly backend: Pick<ActiveBackend, 'name' | 'reason'>) {}

  /** Starts the thread and waits until its backend is up. @throws DdpError (e.g. ERR_BACKEND_UNAVAILABLE) or Error. */
  static start(options: ComputeThreadOptions, events: ComputeEvents): Promise<ComputeThread> {
    const init: ComputeInit = { modelKind: options.modelKind, backend: options.backend, train: sharedSplit(options.data.train),
      test: sharedSplit(options.data.test), characterAlphabet: options.data.characterAlphabet, microBatch: options.microBatch,
      delayMsPerTask: options.delayMsPerTask ?? 0,
      ...(options.corruptReplicaAtVersion !== undefined ? { corruptReplicaAtVersion: options.corruptReplicaAtVersion } : {}) };
    const thread = new Worker(THREAD_FILE, { workerData: init });
    return new Promise((resolve, reject) => {
      let started: ComputeThread | undefined;
      thread.on('message', (report: ComputeReport) => {
        if (started) {
          if (report.kind !== 'ready' && report.kind !== 'init-failed') events.onAnswer(report);
          return;
        }
        if (report.kind === 'ready') {
          started = new ComputeThread(thread, { name: report.backend, reason: report.reason });
          resolve(started);
        } else if (report.kind === 'init-failed') {
          void thread.terminate();
          reject(report.code ? new DdpError(report.code, report.message) : new Error(report.message));
        }
      });
      thread.on('error', (error) => {
        if (!started) reject(error);
        else if (started.state === 'running') events.onCrash(error);
      });
      thread.on('exit', (code) => {
        if (!started) reject(new Error(`compute thread exited with code ${code} before it was ready`));
        else if (started.state === 'running') events.onCrash(new Error(`compute thread exited with code ${code}`));
        if (started) started.state = 'ended';
      });
    });
  }

  /** Hands the weights over; their buffers move to the thread (no copy) and are unusable here afterwards. */
  setWeights(tensors: readonly NamedTensor[], replica?: ReplicaStart): void {
    this.post({ kind: 'weights', tensors, ...(replica ? { replica } : {}) }, [...tensors, ...(replica?.optimizerState ?? [])].map((t) => t.data));
  }

  /** Hands a step update over (its buffers move, as the weights' do). */
  update(update: StepUpdate): void {
    this.post({ kind: 'update', update }, [...update.meanGrads, ...update.factors].map((t) => t.data));
  }

  step(task: StepAssignment): void {
    this.post({ kind: 'step', task }, [task.sampleIndices]);
  }

  evaluate(task: EvalRequest): void {
    this.post({ kind: 'eval', task }, [task.sampleIndices]);
  }

  /** Ends the thread, abandoning the task in flight; answers not yet delivered are lost. */
  async terminate(): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ended';
    await this.thread.terminate();
  }

  private post(request: ComputeRequest, arrays: readonly ArrayBufferView[]): void {
    if (this.state === 'ended') return;
    this.thread.postMessage(request, movableBuffers(arrays));
  }
}

/** The split with its images on shared memory (copied once if they are not), so the thread reads them in place. */
function sharedSplit(split: Split): Split {
  if (split.images.buffer instanceof SharedArrayBuffer) return split;
  const images = new Float32Array(new SharedArrayBuffer(split.images.byteLength));
  images.set(split.images);
  return { ...split, images };
}
