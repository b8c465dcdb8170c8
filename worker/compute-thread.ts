import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../shared/compute/backend.js';
import { DdpError } from '../shared/common/errors.js';
import { silentLogger } from '../shared/common/logger.js';
import { ModelRunner } from '../shared/model/model-runner.js';
import { movableBuffers, type ComputeAnswer, type ComputeInit, type ComputeReport, type ComputeRequest } from './compute-messages.js';
import { shardEvaluation, shardGradients } from './shard-compute.js';
import { PhaseClock } from '../shared/common/phase-times.js';
import { factoredLayers } from '../shared/exchange/factored-layers.js';
import { modelSpec } from '../shared/model/model-spec.js';
import { ReplicaWeights } from './replica-weights.js';

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

// The factored exchange's replica of the weights, and where this thread's time went since its last answer.
const layers = factoredLayers(modelSpec(init.modelKind));
const replica = new ReplicaWeights(layers, init.corruptReplicaAtVersion);
let sinceAnswer = new PhaseClock();

function answer(runner: ModelRunner, request: Extract<ComputeRequest, { kind: 'step' | 'eval' }>): ComputeAnswer {
  const { task } = request;
  blockFor(init.delayMsPerTask);
  try {
    if (request.kind === 'step') {
      const started = performance.now();
      const factored = request.task.exchange === 'factored' ? layers : [];
      const clock = new PhaseClock();
      const result = shardGradients(runner, init.train, request.task, init.microBatch, factored, clock);
      const phases = { ...sinceAnswer.read(), ...clock.read() };
      sinceAnswer = new PhaseClock();
      return { kind: 'gradients', taskId: task.taskId, stepId: request.task.stepId, sampleCount: task.sampleIndices.length,
        grads: result.grads, heads: result.heads, computeMs: performance.now() - started, phases,
        ...(result.factors ? { factors: result.factors, proof: replica.proof() } : {}) };
    }
    const split = request.task.split === 'test' ? init.test : init.train;
    const result = shardEvaluation(runner, split, request.task, init.microBatch);
    return { kind: 'evaluated', taskId: task.taskId, sampleCount: task.sampleIndices.length, heads: result.heads,
      ...(result.agreement ? { agreement: result.agreement } : {}) };
  } catch (error) {
    return { kind: 'failed', taskId: task.taskId, message: error instanceof Error ? error.message : String(error) };
  }
}

/** Full weights (a join, a resync), or a step update the replica applies as the coordinator does. */
function takeWeights(runner: ModelRunner, request: Extract<ComputeRequest, { kind: 'weights' | 'update' }>): void {
  const started = performance.now();
  if (request.kind === 'weights') {
    runner.setParams(request.tensors);
    if (request.replica) replica.set(request.tensors, request.replica);
    sinceAnswer.add('upload', performance.now() - started);
    return;
  }
  const outcome = replica.apply(request.update);
  const applied = performance.now();
  sinceAnswer.add('optimizer', applied - started);
  // Not applied (a version gap): the next proof names the version held, and the coordinator sends the weights whole.
  if (!outcome.applied) return;
  runner.setParams(outcome.params);
  sinceAnswer.add('upload', performance.now() - applied);
}

try {
  const backend = await initBackend(init.backend, silentLogger());
  const runner = ModelRunner.create(init.modelKind, backend.tf, { characterAlphabet: init.characterAlphabet });
  port.on('message', (request: ComputeRequest) => {
    if (request.kind === 'weights' || request.kind === 'update') {
      try {
        takeWeights(runner, request);
      } catch (error) {
        post({ kind: 'weights-refused', message: (error as Error).message });
      }
      return;
    }
    const result = answer(runner, request);
    post(result, result.kind === 'gradients' ? movableBuffers([...result.grads, ...(result.factors ?? [])].map((g) => g.data)) : []);
  });
  post({ kind: 'ready', backend: backend.name, reason: backend.reason });
} catch (error) {
  post({ kind: 'init-failed', code: error instanceof DdpError ? error.code : undefined,
    message: error instanceof Error ? error.message : String(error) });
}
