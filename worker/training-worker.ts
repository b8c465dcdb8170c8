import { hostname } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Dealer } from 'zeromq';
import type { ActiveBackend } from '../shared/compute/backend.js';
import { gatherBatch, type OmniglotData, type Split as DataSplit } from '../shared/dataset/omniglot.js';
import type { HeadStat } from '../shared/model/heads.js';
import type { Logger } from '../shared/common/logger.js';
import type { Batch } from '../shared/model/batch.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';
import { ModelRunner, type EvalResult } from '../shared/model/model-runner.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import type { EvalRequest, Message, StepAssignment } from '../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { SendQueue } from './send-queue.js';
import { usesIpv6 } from '../shared/common/endpoint.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { augmentBatch } from '../shared/dataset/augment.js';
import { applyClientSecurity, watchHandshake, type ClientSecurity } from './client-security.js';
import { PhaseClock } from '../shared/common/phase-times.js';
import { concatRows } from '../shared/exchange/factor-reduction.js';
import { factoredLayers, type FactoredLayer } from '../shared/exchange/factored-layers.js';
import { modelSpec } from '../shared/model/model-spec.js';
import { ReplicaWeights } from './replica-weights.js';

export interface WorkerOptions {
  /** Coordinator endpoint, e.g. tcp://10.0.0.1:5555. */
  readonly connect: string;
  readonly data: OmniglotData;
  readonly backend: ActiveBackend;
  readonly modelKind: ModelKind;
  readonly name: string;
  readonly log: Logger;
  readonly security: ClientSecurity;
  /** Samples per forward/backward call; larger shards are computed in chunks and summed. */
  readonly microBatch?: number;
  /** Hello again when the coordinator has been silent this long (it may have restarted). */
  readonly coordinatorTimeoutMs?: number;
  /** Give up (exit kind 'gave-up') after this long without a word from a coordinator while not joined; none: never. */
  readonly joinTimeoutMs?: number;
  /** Test hook (factored exchange): corrupt this replica's weights when an update brings them to this version. */
  readonly corruptReplicaAtVersion?: number;
}

/** How a worker ended: the coordinator's shutdown, a refusal, or a local stop. */
export type WorkerExit =
  | { readonly kind: 'shutdown'; readonly reason: string; readonly resumable: boolean }
  | { readonly kind: 'gave-up'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string }
  | { readonly kind: 'stopped'; readonly reason: string };

type WorkerState = 'joining' | 'ready' | 'closed';

/**
 * Owns compute: connects to the coordinator, says hello, and answers each step with the gradients of the weighted
 * loss on its shard and each evaluation request with per-head sums. Tasks run in arrival order; the weights always
 * arrive before the tasks that use them, since ZeroMQ keeps a connection's order.
 */
export class TrainingWorker {
  private readonly socket: Dealer;
  private readonly queue: SendQueue<Uint8Array>;
  private readonly runner: ModelRunner;
  private readonly log: Logger;
  private state: WorkerState = 'joining';
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatMs = 1000;
  private lastHeardMs = performance.now();
  private lastHelloMs = 0;
  private finish!: (exit: WorkerExit) => void;
  /** The factored exchange's copy of the weights (replicas take the optimizer step). */
  private readonly replica: ReplicaWeights;
  private readonly layers: readonly FactoredLayer[];
  /** Phases since the last answer: decoding, applying and uploading the weights or updates that came in. */
  private sinceAnswer = new PhaseClock();
  /** The previous answer's send, reported with the next answer (a message cannot carry its own send time). */
  private lastSendMs = 0;
  private lastEncodeMs = 0;
  readonly finished: Promise<WorkerExit>;

  private constructor(private readonly options: WorkerOptions, socket: Dealer) {
    this.socket = socket;
    this.queue = new SendQueue(socket, 16);
    this.log = options.log.child({ component: 'worker', workerName: options.name });
    this.runner = ModelRunner.create(options.modelKind, options.backend.tf, { characterAlphabet: options.data.characterAlphabet });
    this.layers = factoredLayers(modelSpec(options.modelKind));
    this.replica = new ReplicaWeights(this.layers, options.corruptReplicaAtVersion);
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  static async start(options: WorkerOptions): Promise<TrainingWorker> {
    // Reconnect quickly after a coordinator restart; the hello waits in the queue until the connection is up.
    const socket = new Dealer({ linger: 200, immediate: false, reconnectInterval: 200, reconnectMaxInterval: 2000,
      ipv6: usesIpv6(options.connect) });
    await applyClientSecurity(socket, options.security);
    const worker = new TrainingWorker(options, socket);
    // Watch before connecting: a handshake refused before the monitor exists would go unseen, and libzmq does not
    // retry after some refusals, so the worker would wait forever.
    watchHandshake(socket, options.security, (reason) => {
      worker.log.error({ code: 'ERR_NOT_AUTHORIZED', reason }, `refused by the coordinator: ${reason}`);
      worker.close({ kind: 'refused', code: 'ERR_NOT_AUTHORIZED', reason });
    });
    socket.connect(options.connect);
    worker.sayHello();
    worker.heartbeat = setInterval(() => worker.tick(), 1000);
    void worker.receiveLoop();
    return worker;
  }

  /** Leaves cleanly: tells the coordinator (which reassigns any shard held here) and closes. */
  async stop(reason: string): Promise<void> {
    if (this.state === 'closed') return;
    await this.send({ type: 'goodbye', reason }).catch(() => undefined);
    this.close({ kind: 'stopped', reason });
  }

  /** Closes the socket without a word, as a crash would; for tests of failure handling. */
  kill(): void {
    this.close({ kind: 'stopped', reason: 'killed' });
  }

  private close(exit: WorkerExit): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    this.socket.close();
    this.runner.dispose();
    this.finish(exit);
  }

  private sayHello(): void {
    const o = this.options;
    this.lastHelloMs = performance.now();
    void this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: o.backend.name,
      datasetFingerprint: o.data.fingerprint, workerName: o.name, modelKind: o.modelKind, host: hostname(),
      pid: process.pid }).catch((error: unknown) => this.log.warn({ err: error }, 'hello not sent'));
  }

  private tick(): void {
    if (this.state === 'closed') return;
    const timeout = this.options.coordinatorTimeoutMs ?? 10_000;
    const now = performance.now();
    const join = this.options.joinTimeoutMs;
    if (this.state === 'joining' && join !== undefined && now - this.lastHeardMs > join) {
      this.log.warn({ silentMs: Math.round(now - this.lastHeardMs) }, 'no coordinator to join: giving up');
      this.close({ kind: 'gave-up', reason: `no coordinator answered at ${this.options.connect} for ${Math.round(join / 1000)} s` });
      return;
    }
    if (now - this.lastHeardMs > timeout && now - this.lastHelloMs > timeout) {
      this.log.warn({ silentMs: Math.round(now - this.lastHeardMs) }, 'coordinator silent: saying hello again');
      this.state = 'joining';
      this.sayHello();
      return;
    }
    if (this.state === 'ready') void this.send({ type: 'heartbeat', sentAtMs: Date.now() }).catch(() => undefined);
  }

  private send(message: Message): Promise<void> {
    return this.queue.send(encodeMessage(message));
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.socket) {
        if (!frame) continue;
        this.lastHeardMs = performance.now();
        const decodeStarted = performance.now();
        const decoded = decodeMessage(frame);
        if (decoded.ok && (decoded.message.type === 'weights' || decoded.message.type === 'update')) {
          this.sinceAnswer.add('decode', performance.now() - decodeStarted);
        }
        if (!decoded.ok) {
          this.log.warn({ code: decoded.code, reason: decoded.reason }, 'ignored a malformed frame from the coordinator');
          continue;
        }
        await this.handle(decoded.message);
        if (this.state === 'closed') return;
      }
    } catch (error) {
      if (this.state !== 'closed') {
        this.log.error({ err: error }, 'worker receive loop failed');
        this.close({ kind: 'stopped', reason: (error as Error).message });
      }
    }
  }

  private async handle(message: Message): Promise<void> {
    switch (message.type) {
      case 'welcome':
        this.state = 'ready';
        // Beat at the coordinator's pace: its worker timeout is set against its own interval, not our default.
        if (message.heartbeatIntervalMs > 0 && message.heartbeatIntervalMs !== this.heartbeatMs) {
          this.heartbeatMs = message.heartbeatIntervalMs;
          clearInterval(this.heartbeat);
          this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
        }
        this.log.info({ workerId: message.workerId, backend: this.options.backend.name }, 'joined the run');
        return;
      case 'refused':
        if (message.code === 'ERR_NOT_REGISTERED') {
          // The coordinator restarted and does not know us: join again.
          this.state = 'joining';
          if (performance.now() - this.lastHelloMs > 500) this.sayHello();
          return;
        }
        this.log.error({ code: message.code, reason: message.reason }, `refused by the coordinator: ${message.reason}`);
        this.close({ kind: 'refused', code: message.code, reason: message.reason });
        return;
      case 'weights': {
        const started = performance.now();
        this.replica.set(message);
        this.runner.setParams(message.tensors);
        this.sinceAnswer.add('upload', performance.now() - started);
        return;
      }
      case 'update': {
        const started = performance.now();
        const outcome = this.replica.apply(message);
        const applied = performance.now();
        this.sinceAnswer.add('optimizer', applied - started);
        if (!outcome.applied) {
          // The next answer's proof names the version held, and the coordinator sends the weights whole.
          this.log.warn({ why: outcome.why }, 'update not applied: waiting for the full weights');
          return;
        }
        this.runner.setParams(outcome.params);
        this.sinceAnswer.add('upload', performance.now() - applied);
        return;
      }
      case 'step':
        await this.answerStep(message);
        return;
      case 'eval-request':
        await this.answerEval(message);
        return;
      case 'heartbeat':
      case 'dataset-chunk':
        return;
      case 'shutdown':
        this.log.info({ reason: message.reason, resumable: message.resumable }, message.resumable ? 'coordinator stopped to be resumed' : 'coordinator ended the run');
        this.close({ kind: 'shutdown', reason: message.reason, resumable: message.resumable });
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

  private async answerStep(m: StepAssignment): Promise<void> {
    const started = performance.now();
    const clock = new PhaseClock();
    const factored = m.exchange === 'factored' ? this.layers : [];
    try {
      let sum: NamedTensor[] | undefined;
      const factorParts: NamedTensor[][] = [];
      let heads: HeadStat[] = [];
      for (const chunk of this.chunks(this.options.data.train, m.sampleIndices)) {
        const input = m.augment ? augmentBatch(chunk.batch, chunk.indices, m.augmentSeed, m.epoch) : chunk.batch;
        clock.lap('gather');
        const result = this.runner.gradients(input, m.lossWeights, factored);
        clock.lap('compute');
        clock.add('compute', -(result.readBackMs ?? 0));
        clock.add('readBack', result.readBackMs ?? 0);
        sum = sum ? addInto(sum, result.grads) : result.grads;
        if (result.factors) factorParts.push(result.factors);
        heads = sumHeadStats([heads, result.heads]);
        await yieldToEventLoop();
        clock.restart();
      }
      const factors = factored.length > 0 ? joinFactors(factorParts, factored) : undefined;
      clock.lap('readBack');
      // A message cannot carry its own encode and send times: each answer reports its predecessor's.
      const phases = { ...this.sinceAnswer.read(), ...clock.read(), encode: this.lastEncodeMs, send: this.lastSendMs };
      this.sinceAnswer = new PhaseClock();
      const encodeStarted = performance.now();
      const frame = encodeMessage({ type: 'gradients', taskId: m.taskId, stepId: m.stepId, sampleCount: m.sampleIndices.length,
        grads: sum ?? [], heads, computeMs: performance.now() - started, phases,
        ...(factors ? { factors, proof: this.replica.proof() } : {}) });
      const sendStarted = performance.now();
      this.lastEncodeMs = sendStarted - encodeStarted;
      await this.queue.send(frame);
      this.lastSendMs = performance.now() - sendStarted;
    } catch (error) {
      this.log.error({ err: error, task: m.taskId }, 'step failed');
      await this.send({ type: 'error', code: 'ERR_COMPUTE', message: (error as Error).message, taskId: m.taskId })
        .catch(() => undefined);
    }
  }

  private async answerEval(m: EvalRequest): Promise<void> {
    try {
      const split = m.split === 'test' ? this.options.data.test : this.options.data.train;
      const parts: EvalResult[] = [];
      for (const chunk of this.chunks(split, m.sampleIndices)) {
        parts.push(this.runner.evaluate(chunk.batch));
        await yieldToEventLoop();
      }
      const heads = sumHeadStats(parts.map((p) => p.heads));
      const agreement = sumAgreement(parts.map((p) => p.agreement));
      await this.send({ type: 'eval-result', taskId: m.taskId, sampleCount: m.sampleIndices.length, heads,
        ...(agreement ? { agreement } : {}) });
    } catch (error) {
      this.log.error({ err: error, task: m.taskId }, 'evaluation failed');
      await this.send({ type: 'error', code: 'ERR_COMPUTE', message: (error as Error).message, taskId: m.taskId })
        .catch(() => undefined);
    }
  }

  /** Micro-batches of a shard; gradients and stats are sums, so chunking changes nothing but rounding. */
  private *chunks(split: DataSplit, indices: Uint32Array): Generator<{ batch: Batch; indices: Uint32Array }> {
    const size = this.options.microBatch ?? 64;
    for (let start = 0; start < indices.length; start += size) {
      const part = indices.subarray(start, start + size);
      yield { batch: gatherBatch(split, part), indices: part };
    }
  }
}

/** Chunks' factors joined row-wise in sample order: x then dy per layer, as one shard's. */
function joinFactors(parts: readonly NamedTensor[][], layers: readonly FactoredLayer[]): NamedTensor[] {
  return layers.flatMap((l, i) => [concatRows(l.x, parts.map((p) => p[2 * i]!), l.in), concatRows(l.dy, parts.map((p) => p[2 * i + 1]!), l.out)]);
}

function addInto(sum: NamedTensor[], more: readonly NamedTensor[]): NamedTensor[] {
  sum.forEach((t, i) => {
    const src = more[i]!.data;
    const dst = t.data;
    for (let k = 0; k < dst.length; k++) dst[k]! += src[k]!;
  });
  return sum;
}
