import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../shared/compute/backend.js';
import { DdpError } from '../shared/common/errors.js';
import { silentLogger } from '../shared/common/logger.js';
import { ModelRunner } from '../shared/model/model-runner.js';
import { movableBuffers, type ComputeAnswer, type ComputeInit, type ComputeReport, type ComputeRequest } from './compute-messages.js';
import { shardEvaluation, shardGradients } from './shard-compute.js';

// The compute thread of a worker: the model and the dataset live here, so a task may block this thread for as long
// as it takes while the socket thread keeps heartbeating. Requests are handled synchronously, one at a time, in
// arrival order, which keeps ZeroMQ's order: weights before the tasks that use them.

const port = parentPort;
if (!port) throw new Error('compute-thread.js runs only as a node:worker_threads Worker');
const init = workerData as ComputeInit;
const post = (report: ComputeReport, transfer: ArrayBuffer[] = []): void => port.postMessage(report, transfer);

/** Blocks the thread (without spinning) as a long synchronous kernel would; a test hook only. */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function answer(runner: ModelRunner, request: Exclude<ComputeRequest, { kind: 'weights' }>): ComputeAnswer {
  const { task } = request;
  blockFor(init.delayMsPerTask);
  try {
    if (request.kind === 'step') {
      const started = performance.now();
      const result = shardGradients(runner, init.train, request.task, init.microBatch);
      return { kind: 'gradients', taskId: task.taskId, stepId: request.task.stepId, sampleCount: task.sampleIndices.length,
        grads: result.grads, heads: result.heads, computeMs: performance.now() - started };
    }
    const split = request.task.split === 'test' ? init.test : init.train;
    const result = shardEvaluation(runner, split, request.task, init.microBatch);
    return { kind: 'evaluated', taskId: task.taskId, sampleCount: task.sampleIndices.length, heads: result.heads,
      ...(result.agreement ? { agreement: result.agreement } : {}) };
  } catch (error) {
    return { kind: 'failed', taskId: task.taskId, message: error instanceof Error ? error.message : String(error) };
  }
}

try {
  const backend = await initBackend(init.backend, silentLogger());
  const runner = ModelRunner.create(init.modelKind, backend.tf, { characterAlphabet: init.characterAlphabet });
  port.on('message', (request: ComputeRequest) => {
    if (request.kind === 'weights') {
      try {
        runner.setParams(request.tensors);
      } catch (error) {
        post({ kind: 'weights-refused', message: (error as Error).message });
      }
      return;
    }
    const result = answer(runner, request);
    post(result, result.kind === 'gradients' ? movableBuffers(result.grads.map((g) => g.data)) : []);
  });
  post({ kind: 'ready', backend: backend.name, reason: backend.reason });
} catch (error) {
  post({ kind: 'init-failed', code: error instanceof DdpError ? error.code : undefined,
    message: error instanceof Error ? error.message : String(error) });
}
