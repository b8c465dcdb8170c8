import { hostname } from 'node:os';
import { Dealer } from 'zeromq';
import type { BackendChoice } from '../shared/compute/backend.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import type { Logger } from '../shared/common/logger.js';
import { modelSpec, type ModelKind } from '../shared/model/model-spec.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { runWireLimits, wireLimits, type WireLimits } from '../shared/protocol/wire-limits.js';
import type { Message } from '../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { SendQueue } from './send-queue.js';
import { boundedText } from '../shared/common/bounded-text.js';
import { usesIpv6 } from '../shared/common/endpoint.js';
import { applyClientSecurity, watchHandshake, type ClientSecurity } from './client-security.js';
import type { ComputeAnswer } from './compute-messages.js';
import type { ComputeEngine, ComputeEvents } from './compute-engine.js';
import { ComputeThread } from './compute-thread-client.js';
import { taskWeightsProblem, welcomeProblem } from './task-checks.js';

interface WorkerBaseOptions {
  /** Coordinator endpoint, e.g. tcp://10.0.0.1:5555. */
  readonly connect: string;
  readonly modelKind: ModelKind;
  readonly name: string;
  readonly log: Logger;
  readonly security: ClientSecurity;
  /** Until the welcome says the coordinator's worker timeout: hello again after this much silence (it may have restarted). */
  readonly coordinatorTimeoutMs?: number;
  /** Give up (exit kind 'gave-up') after this long without a word from a coordinator while not joined; none: never. */
  readonly joinTimeoutMs?: number;
  /** Test hook (factored exchange): corrupt this replica's weights when an update brings them to this version. */
  readonly corruptReplicaAtVersion?: number;
}

/** The model on a dataset in a compute thread (production), or, for the scale benchmark only, another engine. */
export type WorkerOptions = WorkerBaseOptions & ({
  readonly data: OmniglotData;
  /** Started in the compute thread; the hello reports the one that came up. */
  readonly backend: BackendChoice;
  /** Samples per forward/backward call; larger shards are computed in chunks and summed. */
  readonly microBatch?: number;
  /** Test hook: the compute thread blocks this long before each task, as a slow device would. Tests only. */
  readonly computeDelayMs?: number;
} | {
  /** Benchmark aid: an engine standing in for the model, and the dataset fingerprint it claims in the hello. */
  readonly engine: { readonly datasetFingerprint: string; start(events: ComputeEvents): Promise<ComputeEngine> };
});

/** How a worker ended: the coordinator's shutdown, a refusal, or a local stop. */
export type WorkerExit =
  | { readonly kind: 'shutdown'; readonly reason: string; readonly resumable: boolean }
  | { readonly kind: 'gave-up'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string }
  | { readonly kind: 'stopped'; readonly reason: string };

/** 'leaving': goodbye said, answers no longer sent; 'closed': socket and compute thread gone. */
type WorkerState = 'joining' | 'ready' | 'leaving' | 'closed';

/**
 * Connects to the coordinator, says hello, and answers each step with the gradients of the weighted loss on its
 * shard and each evaluation request with per-head sums. This thread owns the socket, the protocol and liveness;
 * the model runs in a compute thread, so heartbeats flow however long a task takes. Tasks run in arrival order; the
 * weights always arrive before the tasks that use them, since ZeroMQ and the thread's queue keep order.
 */
export class TrainingWorker {
  private readonly queue: SendQueue<Uint8Array>;
  private readonly log: Logger;
  private readonly limits: WireLimits;
  private compute!: ComputeEngine;
  private state: WorkerState = 'joining';
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatMs = 1000;
  private silenceLimitMs: number;
  private lastHeardMs = performance.now();
  private lastHelloMs = 0;
  /** Version of the last Weights received since the welcome; tasks name the version they are for. */
  private weightsVersion: number | undefined;
  private finish!: (exit: WorkerExit) => void;
  /** Step phases measured on this thread: decoding weights and updates since the last answer, and the previous
   * answer's encode and send (see deliver). */
  private decodeMs = 0;
  private lastEncodeMs = 0;
  private lastSendMs = 0;
  readonly finished: Promise<WorkerExit>;

  private constructor(private readonly options: WorkerOptions, private readonly socket: Dealer) {
    this.queue = new SendQueue(socket, 16);
    this.log = options.log.child({ component: 'worker', workerName: options.name });
    this.limits = workerWireLimits(options);
    this.silenceLimitMs = options.coordinatorTimeoutMs ?? 10_000;
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** @throws DdpError ERR_BACKEND_UNAVAILABLE when the compute thread cannot start the backend asked for. */
  static async start(options: WorkerOptions): Promise<TrainingWorker> {
    // Reconnect quickly after a coordinator restart; the hello waits in the queue until the connection is up.
    // Frames over the largest legitimate message of this model and dataset are dropped by libzmq unread.
    const socket = new Dealer({ linger: 200, immediate: false, reconnectInterval: 200, reconnectMaxInterval: 2000,
      ipv6: usesIpv6(options.connect), maxMessageSize: workerWireLimits(options).maxMessageBytes });
    const worker = new TrainingWorker(options, socket);
    try {
      const events: ComputeEvents = {
        onAnswer: (answer) => worker.deliver(answer),
        onCrash: (error) => {
          worker.log.error({ err: error }, 'compute thread failed');
          void worker.stop(`compute thread failed: ${error.message}`);
        },
      };
      worker.compute = 'engine' in options ? await options.engine.start(events)
        : await ComputeThread.start({ modelKind: options.modelKind, backend: options.backend, data: options.data,
          microBatch: options.microBatch ?? 64, delayMsPerTask: options.computeDelayMs ?? 0,
          ...(options.corruptReplicaAtVersion !== undefined ? { corruptReplicaAtVersion: options.corruptReplicaAtVersion } : {}) }, events);
      await applyClientSecurity(socket, options.security);
    } catch (error) {
      socket.close();
      await worker.compute?.terminate();
      throw error;
    }
    worker.log.info({ backend: worker.compute.backend.name, reason: worker.compute.backend.reason }, 'compute backend ready');
    // Watch before connecting: a handshake refused before the monitor exists would go unseen, and libzmq does not
    // retry after some refusals, so the worker would wait forever.
    watchHandshake(socket, options.security, (reason) => {
      worker.log.error({ code: 'ERR_NOT_AUTHORIZED', reason }, `refused by the coordinator: ${reason}`);
      void worker.close({ kind: 'refused', code: 'ERR_NOT_AUTHORIZED', reason });
    });
    socket.connect(options.connect);
    worker.sayHello();
    worker.heartbeat = setInterval(() => worker.tick(), worker.heartbeatMs);
    void worker.receiveLoop();
    return worker;
  }

  /**
   * Leaves cleanly: tells the coordinator (which reassigns any shard held here), then ends the compute thread, which
   * abandons the task in flight; its answer would be stale once the goodbye is out.
   */
  async stop(reason: string): Promise<void> {
    await this.leave(reason, { kind: 'stopped', reason });
  }

  private async leave(reason: string, exit: WorkerExit): Promise<void> {
    if (this.state === 'leaving' || this.state === 'closed') return;
    this.state = 'leaving';
    await this.send({ type: 'goodbye', reason }).catch(() => undefined);
    await this.close(exit);
  }

  /** Closes the socket without a word, as a crash would; for tests of failure handling. */
  kill(): void {
    void this.close({ kind: 'stopped', reason: 'killed' });
  }

  private async close(exit: WorkerExit): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    this.socket.close();
    await this.compute.terminate();
    this.finish(exit);
  }

  private sayHello(): void {
    const o = this.options;
    this.lastHelloMs = performance.now();
    void this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: this.compute.backend.name,
      datasetFingerprint: 'engine' in o ? o.engine.datasetFingerprint : o.data.fingerprint, workerName: o.name, modelKind: o.modelKind, host: hostname(),
      pid: process.pid }).catch((error: unknown) => this.log.warn({ err: error }, 'hello not sent'));
  }

  private tick(): void {
    if (this.state === 'closed' || this.state === 'leaving') return;
    const now = performance.now();
    const join = this.options.joinTimeoutMs;
    if (this.state === 'joining' && join !== undefined && now - this.lastHeardMs > join) {
      this.log.warn({ silentMs: Math.round(now - this.lastHeardMs) }, 'no coordinator to join: giving up');
      void this.close({ kind: 'gave-up', reason: `no coordinator answered at ${this.options.connect} for ${Math.round(join / 1000)} s` });
      return;
    }
    // The coordinator beats every interval whatever it is doing: this much silence means it is gone or restarted.
    if (now - this.lastHeardMs > this.silenceLimitMs && now - this.lastHelloMs > this.silenceLimitMs) {
      this.log.warn({ silentMs: Math.round(now - this.lastHeardMs) }, 'coordinator silent: saying hello again');
      this.state = 'joining';
      this.sayHello();
      return;
    }
    if (this.state === 'ready') void this.send({ type: 'heartbeat' }).catch(() => undefined);
  }

  private send(message: Message): Promise<void> {
    return this.queue.send(encodeMessage(message));
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.socket) {
        if (!frame) continue;
        this.lastHeardMs = performance.now();
        const decoded = decodeMessage(frame, this.limits);
        if (decoded.ok && (decoded.message.type === 'weights' || decoded.message.type === 'update')) {
          this.decodeMs += performance.now() - this.lastHeardMs;
        }
        if (!decoded.ok) {
          this.log.warn({ code: decoded.code, reason: decoded.reason }, 'ignored a malformed frame from the coordinator');
          continue;
        }
        this.handle(decoded.message);
        if (this.state === 'closed') return;
      }
    } catch (error) {
      if (this.state !== 'closed') {
        this.log.error({ err: error }, 'worker receive loop failed');
        await this.close({ kind: 'stopped', reason: (error as Error).message });
      }
    }
  }

  /** Never waits for compute: tasks go to the compute thread and their answers come back through `deliver`. */
  private handle(message: Message): void {
    if (this.state === 'leaving') return;
    switch (message.type) {
      case 'welcome': {
        const problem = welcomeProblem(message, this.options.modelKind);
        if (problem) {
          this.log.error(problem, `cannot join: ${problem.reason}`);
          void this.leave(problem.reason, { kind: 'refused', ...problem });
          return;
        }
        this.state = 'ready';
        // The weights of this membership follow the welcome; anything held is from before it.
        this.weightsVersion = undefined;
        if (message.workerTimeoutMs > 0) this.silenceLimitMs = message.workerTimeoutMs;
        // Beat at the coordinator's pace: its worker timeout is set against its own interval, not our default.
        if (message.heartbeatIntervalMs > 0 && message.heartbeatIntervalMs !== this.heartbeatMs) {
          this.heartbeatMs = message.heartbeatIntervalMs;
          clearInterval(this.heartbeat);
          this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
        }
        this.log.info({ workerId: message.workerId, backend: this.compute.backend.name, workerTimeoutMs: this.silenceLimitMs },
          'joined the run');
        return;
      }
      case 'refused':
        if (message.code === 'ERR_NOT_REGISTERED') {
          // The coordinator restarted and does not know us: join again.
          this.state = 'joining';
          if (performance.now() - this.lastHelloMs > 500) this.sayHello();
          return;
        }
        if (message.code === 'ERR_HELLO_RATE') {
          // Rejoined too often (e.g. declared lost again and again on a loaded machine): the next hello comes from
          // tick(), after a coordinator timeout of silence, which is slower than the coordinator's refill rate.
          this.log.warn({ code: message.code, reason: message.reason }, 'hello refused for now: too many hellos');
          this.state = 'joining';
          return;
        }
        this.log.error({ code: message.code, reason: message.reason }, `refused by the coordinator: ${message.reason}`);
        void this.close({ kind: 'refused', code: message.code, reason: message.reason });
        return;
      case 'weights':
        this.weightsVersion = message.version;
        this.compute.setWeights(message.tensors, { version: message.version,
          ...(message.optimizerState ? { optimizerState: message.optimizerState } : {}) });
        return;
      case 'update':
        // An update turns version v-1 into v; a replica that did not hold v-1 holds nothing a task can name, so
        // its tasks are refused (ERR_WEIGHTS_VERSION) until the coordinator sends full weights.
        this.weightsVersion = this.weightsVersion === message.version - 1 ? message.version : undefined;
        // An engine without replicas (the scale benchmark's) ignores updates; its answers then carry no proof.
        this.compute.update?.(message);
        return;
      case 'step':
      case 'eval-request': {
        const problem = taskWeightsProblem(message, this.weightsVersion);
        if (problem) {
          this.log.error({ task: message.taskId, ...problem }, `task refused: ${problem.reason}`);
          void this.send({ type: 'error', taskId: message.taskId, code: problem.code, message: problem.reason })
            .catch((error: unknown) => this.log.warn({ err: error }, 'error not sent'));
        } else if (message.type === 'step') this.compute.step(message);
        else this.compute.evaluate(message);
        return;
      }
      case 'heartbeat':
      case 'dataset-chunk':
        return;
      case 'shutdown':
        this.log.info({ reason: message.reason, resumable: message.resumable }, message.resumable ? 'coordinator stopped to be resumed' : 'coordinator ended the run');
        void this.close({ kind: 'shutdown', reason: message.reason, resumable: message.resumable });
        return;
      case 'error':
        this.log.warn({ code: message.code, message: message.message }, 'coordinator reported an error');
        return;
      case 'hello':
      case 'gradients':
      case 'eval-result':
      case 'goodbye':
      case 'dataset-request':
        this.log.warn({ type: message.type }, 'ignored a worker-only message from the coordinator');
        return;
    }
  }

  /** Sends a task's answer, unless the worker is leaving: after its goodbye the coordinator has given the task away. */
  private deliver(answer: ComputeAnswer): void {
    if (this.state === 'leaving' || this.state === 'closed') return;
    const sent = (what: string) => (error: unknown) => this.log.warn({ err: error }, `${what} not sent`);
    switch (answer.kind) {
      case 'gradients': {
        // A message cannot carry its own encode and send times: each answer reports its predecessor's.
        const phases = { ...answer.phases, decode: this.decodeMs, encode: this.lastEncodeMs, send: this.lastSendMs };
        this.decodeMs = 0;
        const encodeStarted = performance.now();
        const frame = encodeMessage({ type: 'gradients', taskId: answer.taskId, stepId: answer.stepId, sampleCount: answer.sampleCount,
          grads: answer.grads, heads: answer.heads, computeMs: answer.computeMs, phases,
          ...(answer.factors ? { factors: answer.factors } : {}), ...(answer.proof ? { proof: answer.proof } : {}) });
        const sendStarted = performance.now();
        this.lastEncodeMs = sendStarted - encodeStarted;
        void this.queue.send(frame).then(() => {
          this.lastSendMs = performance.now() - sendStarted;
        }, sent('gradients'));
        return;
      }
      case 'evaluated':
        void this.send({ type: 'eval-result', taskId: answer.taskId, sampleCount: answer.sampleCount, heads: answer.heads,
          ...(answer.agreement ? { agreement: answer.agreement } : {}) }).catch(sent('evaluation result'));
        return;
      case 'failed':
        this.log.error({ task: answer.taskId, reason: answer.message }, 'task failed');
        void this.send({ type: 'error', code: 'ERR_COMPUTE', message: boundedText(answer.message), taskId: answer.taskId }).catch(sent('error'));
        return;
      case 'weights-refused':
        this.log.error({ reason: answer.message }, 'weights from the coordinator refused');
        void this.close({ kind: 'stopped', reason: `weights refused: ${answer.message}` });
        return;
    }
  }
}

/**
 * The bounds of what the coordinator may send this worker: weights of its model, index lists of its dataset's splits
 * (a benchmark engine without a dataset takes the widest lists).
 */
function workerWireLimits(o: WorkerOptions): WireLimits {
  return 'engine' in o ? wireLimits([modelSpec(o.modelKind)]) : runWireLimits(o.modelKind, [o.data.train.size, o.data.test.size]);
}
