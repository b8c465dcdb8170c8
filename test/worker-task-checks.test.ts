import test from 'ava';
import { Router } from 'zeromq';
import { silentLogger } from '../shared/common/logger.js';
import { initialParams } from '../shared/model/initial-params.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { stepId, taskId, workerId } from '../shared/protocol/ids.js';
import type { Message, StepAssignment } from '../shared/protocol/messages.js';
import { TrainingWorker } from '../worker/training-worker.js';
import { taskWeightsProblem, welcomeProblem } from '../worker/task-checks.js';
import { omniglotSubset } from './helpers/fixtures.js';

// The worker reads what the coordinator tells it: a task names the weights version it is for (a worker holding
// another refuses it rather than send gradients of the wrong point), and the welcome names the run's model.
// Driven by a hand-made coordinator (a real ROUTER socket) so the order of messages is the test's to choose.

const step = (task: number, weightsVersion: number): StepAssignment => ({ type: 'step', taskId: taskId(task), stepId: stepId(0), epoch: 0,
  weightsVersion, sampleIndices: Uint32Array.from([0, 1]), lossWeights: new Map([['alphabet', 1], ['character', 1]]), augment: false, augmentSeed: 1 });

test('the checks themselves: same version or a reason naming both; same model or ERR_MODEL_MISMATCH', (t) => {
  t.is(taskWeightsProblem(step(1, 3), 3), undefined);
  t.deepEqual(taskWeightsProblem(step(5, 3), 2), { code: 'ERR_WEIGHTS_VERSION', reason: 'task 5 is for weights version 3, this worker holds version 2' });
  t.like(taskWeightsProblem(step(5, 0), undefined), { code: 'ERR_WEIGHTS_VERSION', reason: 'task 5 is for weights version 0, this worker holds none yet' });
  const welcome = { type: 'welcome', workerId: workerId('w1'), heartbeatIntervalMs: 100, workerTimeoutMs: 1000, modelKind: 'two-input' } as const;
  t.is(welcomeProblem(welcome, 'two-input'), undefined);
  t.like(welcomeProblem(welcome, 'two-output'), { code: 'ERR_MODEL_MISMATCH' });
});

/** A coordinator played by hand: one ROUTER, the one worker's routing id learnt from its hello. */
class HandCoordinator {
  private readonly inbox: Message[] = [];
  private routingId: Buffer | undefined;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Router, readonly endpoint: string) {
    void this.read();
  }

  static async start(): Promise<HandCoordinator> {
    const socket = new Router({ linger: 0 });
    await socket.bind('tcp://127.0.0.1:*');
    return new HandCoordinator(socket, socket.lastEndpoint!);
  }

  private async read(): Promise<void> {
    try {
      for await (const [routingId, frame] of this.socket) {
        this.routingId = routingId;
        const decoded = decodeMessage(frame!);
        if (decoded.ok && decoded.message.type !== 'heartbeat') this.inbox.push(decoded.message);
        this.wake?.();
      }
    } catch {
      // closed
    }
  }

  async next(timeoutMs = 30_000): Promise<Message> {
    const deadline = performance.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (performance.now() > deadline) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
    return this.inbox.shift()!;
  }

  async send(message: Message): Promise<void> {
    await this.socket.send([this.routingId!, encodeMessage(message)]);
  }

  close(): void {
    this.socket.close();
  }
}

/** A real two-output worker connected to a hand-driven coordinator. */
async function workerOfHand(name: string): Promise<{ coordinator: HandCoordinator; worker: TrainingWorker }> {
  const data = await omniglotSubset(1);
  const coordinator = await HandCoordinator.start();
  const worker = await TrainingWorker.start({ connect: coordinator.endpoint, data, backend: 'auto', modelKind: 'two-output', name,
    log: silentLogger(), security: { kind: 'plain' } });
  return { coordinator, worker };
}

test('a task for weights the worker does not hold is refused with ERR_WEIGHTS_VERSION; the right version computes', async (t) => {
  const { coordinator, worker } = await workerOfHand('checked');
  try {
    t.like(await coordinator.next(), { type: 'hello', modelKind: 'two-output' });
    await coordinator.send({ type: 'welcome', workerId: workerId('w1'), heartbeatIntervalMs: 1000, workerTimeoutMs: 30_000, modelKind: 'two-output' });
    // A task before any weights: an ordering bug on the coordinator's side.
    await coordinator.send(step(1, 0));
    t.like(await coordinator.next(), { type: 'error', taskId: 1, code: 'ERR_WEIGHTS_VERSION', message: 'task 1 is for weights version 0, this worker holds none yet' });
    await coordinator.send({ type: 'weights', version: 3, tensors: initialParams('two-output', 1) });
    await coordinator.send(step(2, 2));
    t.like(await coordinator.next(), { type: 'error', taskId: 2, code: 'ERR_WEIGHTS_VERSION', message: 'task 2 is for weights version 2, this worker holds version 3' });
    await coordinator.send({ type: 'eval-request', taskId: taskId(3), split: 'test', sampleIndices: Uint32Array.from([0]), weightsVersion: 4 });
    t.like(await coordinator.next(), { type: 'error', taskId: 3, code: 'ERR_WEIGHTS_VERSION' });
    await coordinator.send(step(4, 3));
    t.like(await coordinator.next(), { type: 'gradients', taskId: 4, sampleCount: 2 });
    // A new welcome (the coordinator restarted) forgets the old weights: version 3 is not the new run's version 3.
    await coordinator.send({ type: 'welcome', workerId: workerId('w1'), heartbeatIntervalMs: 1000, workerTimeoutMs: 30_000, modelKind: 'two-output' });
    await coordinator.send(step(5, 3));
    t.like(await coordinator.next(), { type: 'error', taskId: 5, code: 'ERR_WEIGHTS_VERSION', message: 'task 5 is for weights version 3, this worker holds none yet' });
  } finally {
    await worker.stop('test over');
    coordinator.close();
  }
});

test('a welcome into a run of another model: the worker says goodbye and exits with ERR_MODEL_MISMATCH', async (t) => {
  const { coordinator, worker } = await workerOfHand('confused');
  try {
    t.like(await coordinator.next(), { type: 'hello' });
    await coordinator.send({ type: 'welcome', workerId: workerId('w1'), heartbeatIntervalMs: 1000, workerTimeoutMs: 30_000, modelKind: 'two-input' });
    t.like(await coordinator.next(), { type: 'goodbye', reason: "the coordinator runs model 'two-input', this worker 'two-output'" });
    t.like(await worker.finished, { kind: 'refused', code: 'ERR_MODEL_MISMATCH' });
  } finally {
    await worker.stop('test over');
    coordinator.close();
  }
});
