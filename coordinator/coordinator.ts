import { Router } from 'zeromq';
import { DdpError, type ErrorCode } from '../shared/errors.js';
import type { HeadStat } from '../shared/heads.js';
import { stepId, taskId, type StepId, type TaskId } from '../shared/ids.js';
import type { Logger } from '../shared/logging/logger.js';
import { modelSpec, type ModelSpec } from '../shared/model/model-spec.js';
import { boundedText } from '../shared/logging/bounded-text.js';
import { encodeMessage } from '../shared/protocol/codec.js';
import { runWireLimits, type WireLimits } from '../shared/protocol/wire-limits.js';
import type { Agreement, EvalResult, Gradients, Hello, Message } from '../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import type { NamedTensor } from '../shared/tensor/named-tensor.js';
import { averageGradients } from './average-gradients.js';
import { epochPermutation, globalBatchAt, stepsPerEpoch } from './epoch-schedule.js';
import { admissionProblem } from './admission.js';
import { gradientProblem, headsProblem } from './answer-check.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';
import { summarizeHeads } from './head-metrics.js';
import { learningRateAt } from './lr-schedule.js';
import { sgdStep, type SgdState } from './sgd.js';
import { planShards, type WorkerCapacity } from './shard-plan.js';
import { TaskRound, type Piece } from './task-round.js';
import type { EpochSummary, TrainingState } from './training-state.js';
import { WorkerRegistry, type WorkerRecord } from './worker-registry.js';
import { applyServerSecurity } from './server-security.js';
import type { CoordinatorOptions, TrainResult } from './coordinator-options.js';
import { logDroppedConnections, readInbound } from './inbound-frame.js';
import { DEFAULT_GATE, PeerGate } from './peer-gate.js';
import { peerIdentity } from './peer-identity.js';

type StepShard = { readonly grads: readonly NamedTensor[]; readonly heads: readonly HeadStat[] };
type EvalShard = { readonly heads: readonly HeadStat[]; readonly agreement: Agreement | undefined };
type ActiveRound = { readonly round: TaskRound<StepShard> | TaskRound<EvalShard>; readonly send: (task: TaskId, piece: Piece) => Message;
  /** The step a training round computes; absent for evaluation rounds. */
  readonly step?: StepId };

/**
 * Owns the schedule and the optimizer step: binds a ROUTER socket, admits workers, splits each global batch across
 * the live ones, averages their gradients, applies SGD and broadcasts the weights; evaluates after each epoch.
 * A lost worker's tasks are reassigned, so a step never waits forever and no sample is lost or counted twice.
 */
export class Coordinator {
  private readonly socket: Router;
  private readonly registry = new WorkerRegistry();
  private readonly spec: ModelSpec;
  private readonly limits: WireLimits;
  private readonly gate: PeerGate;
  private readonly log: Logger;
  private params: readonly NamedTensor[];
  private sgdState: SgdState;
  private weightsVersion = 0;
  private weightsFrame: Uint8Array | undefined;
  private nextTask = 1;
  private active: ActiveRound | undefined;
  private stopping: DdpError | undefined;
  private monitor: NodeJS.Timeout | undefined;
  private workerJoined: (() => void) | undefined;
  private readonly receiving: Promise<void>;

  private constructor(private readonly options: CoordinatorOptions, socket: Router, readonly endpoint: string) {
    this.socket = socket;
    this.spec = modelSpec(options.modelKind);
    this.limits = runWireLimits(options.modelKind, [options.dataset.trainSize, options.dataset.testSize]);
    this.gate = new PeerGate({ maxFaults: options.maxWorkerFaults, ...DEFAULT_GATE });
    this.log = options.log.child({ component: 'coordinator' });
    const resume = options.resumeFrom;
    this.params = resume ? resume.params : options.initialParams;
    this.sgdState = resume ? resume.sgdState : [];
    this.receiving = this.receiveLoop();
    this.monitor = setInterval(() => this.checkLiveness(), options.heartbeatIntervalMs);
  }

  /** Binds the socket. @throws DdpError ERR_INSECURE_BIND for a non-loopback bind without CURVE or --insecure. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    // Frames over the run's largest legitimate message are dropped by libzmq before they are read into memory.
    const limits = runWireLimits(options.modelKind, [options.dataset.trainSize, options.dataset.testSize]);
    const socket = new Router({ linger: 500, sendHighWaterMark: 0, receiveHighWaterMark: 0, maxMessageSize: limits.maxMessageBytes });
    logDroppedConnections(socket, limits, options.log.child({ component: 'coordinator' }));
    await applyServerSecurity(socket, options.bind, options.security, options.log);
    await socket.bind(options.bind);
    const endpoint = socket.lastEndpoint ?? options.bind;
    options.log.info({ endpoint, model: options.modelKind }, 'coordinator listening');
    return new Coordinator(options, socket, endpoint);
  }

  liveWorkers(): number {
    return this.registry.ready().length;
  }

  currentParams(): readonly NamedTensor[] {
    return this.params;
  }

  /** Ends the run at the next safe point: the step in flight is abandoned (it is redone on resume). */
  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = new DdpError('ERR_SHUTDOWN', reason);
    this.active?.round.abort(this.stopping);
    this.workerJoined?.();
  }

  /** Runs the remaining epochs; resolves with the final state, or the state at the stop. */
  async train(): Promise<TrainResult> {
    const o = this.options;
    const steps = stepsPerEpoch(o.dataset.trainSize, o.globalBatch);
    const resume = o.resumeFrom;
    let epoch = resume?.epoch ?? 0;
    let stepInEpoch = resume?.stepInEpoch ?? 0;
    let globalStep = resume?.globalStep ?? 0;
    const history: EpochSummary[] = [...(resume?.history ?? [])];
    let epochStats: HeadStat[] = [...(resume?.epochTrainStats ?? [])];
    const snapshot = (): TrainingState => ({ modelKind: o.modelKind, datasetFingerprint: o.dataset.fingerprint, seed: o.seed, globalBatch: o.globalBatch, epoch,
      stepInEpoch, globalStep, params: this.params, sgdState: this.sgdState, lossWeighting: o.lossWeighting.state(),
      history: [...history], epochTrainStats: epochStats });
    try {
      for (; epoch < o.epochs; epoch++, stepInEpoch = 0, epochStats = []) {
        const order = epochPermutation(o.seed, epoch, o.dataset.trainSize);
        const epochStart = performance.now();
        let samples = 0;
        let learningRate = o.sgd.learningRate;
        for (; stepInEpoch < steps; ) {
          const batch = globalBatchAt(order, o.globalBatch, stepInEpoch);
          learningRate = learningRateAt(o.sgd.learningRate, o.sgd.schedule, { epoch, stepInEpoch, stepsPerEpoch: steps,
            epochs: o.epochs });
          const started = performance.now();
          const lossWeights = [...o.lossWeighting.current()];
          const heads = await this.runStep(epoch, globalStep, batch, learningRate);
          epochStats = sumHeadStats([epochStats, heads]);
          samples += batch.length;
          stepInEpoch += 1;
          globalStep += 1;
          o.onStep?.({ epoch, stepInEpoch, stepsPerEpoch: steps, globalStep, samples: batch.length, heads,
            workers: this.liveWorkers(), stepMs: performance.now() - started, indices: batch,
            learningRate, lossWeights });
          if (o.checkpoint && globalStep % o.checkpoint.everySteps === 0 && stepInEpoch < steps) {
            await o.checkpoint.save(snapshot());
          }
        }
        const trainMs = performance.now() - epochStart;
        const evaluation = await this.evaluate('test');
        const summary: EpochSummary = { epoch, train: summarizeHeads(epochStats), test: evaluation.heads,
          ...(evaluation.agreement ? { agreement: evaluation.agreement } : {}),
          samplesPerSecond: samples / (trainMs / 1000), wallMs: performance.now() - epochStart,
          workers: this.liveWorkers(), learningRate, lossWeights: [...o.lossWeighting.current()] };
        history.push(summary);
        this.log.info({ summary }, 'epoch done');
        // The state after an epoch points at the next one.
        const after: TrainingState = { ...snapshot(), epoch: epoch + 1, stepInEpoch: 0, epochTrainStats: [] };
        await o.onEpoch?.(summary, after);
        if (o.checkpoint) await o.checkpoint.save(after);
      }
      return { state: snapshot(), stopped: false };
    } catch (error) {
      if (!(error instanceof DdpError && error.code === 'ERR_SHUTDOWN')) throw error;
      this.log.warn({ reason: error.message, epoch, stepInEpoch }, 'run stopped');
      const state = snapshot();
      if (o.checkpoint) await o.checkpoint.save(state);
      return { state, stopped: true };
    }
  }

  /** Evaluates the current weights on a split, sharded over the live workers. */
  async evaluate(split: 'train' | 'test'): Promise<{ heads: ReturnType<typeof summarizeHeads>; agreement?: Agreement }> {
    const size = split === 'test' ? this.options.dataset.testSize : this.options.dataset.trainSize;
    const all = new Uint32Array(size).map((_, i) => i);
    const round = new TaskRound<EvalShard>('eval', size);
    await this.runRound({ round, send: (task, piece) => ({ type: 'eval-request', taskId: task, split,
      sampleIndices: piece.indices, weightsVersion: this.weightsVersion }) }, all);
    const results = await round.finished;
    const agreement = sumAgreement(results.map((r) => r.agreement));
    return { heads: summarizeHeads(sumHeadStats(results.map((r) => r.heads))), ...(agreement ? { agreement } : {}) };
  }

  /** Tells the workers the run is over and closes the socket. */
  async close(reason = 'run finished'): Promise<void> {
    clearInterval(this.monitor);
    this.monitor = undefined;
    const frame = encodeMessage({ type: 'shutdown', reason });
    for (const w of this.registry.ready()) await this.sendFrame(w, frame);
    // Give the shutdown frames a moment to leave before the socket goes.
    await new Promise((r) => setTimeout(r, 100));
    this.socket.close();
    await this.receiving.catch(() => undefined);
  }

  private async runStep(epoch: number, globalStep: number, batch: Uint32Array, learningRate: number): Promise<HeadStat[]> {
    const o = this.options;
    const lossWeights = o.lossWeighting.current();
    const id = stepId(globalStep);
    const round = new TaskRound<StepShard>('step', batch.length);
    await this.runRound({ round, step: id, send: (task, piece) => ({ type: 'step', taskId: task, stepId: id, epoch,
      weightsVersion: this.weightsVersion, sampleIndices: piece.indices, lossWeights, augment: o.augment,
      augmentSeed: o.seed }) }, batch);
    const shards = await round.finished;
    const grads = averageGradients(shards.map((s) => s.grads), batch.length);
    const heads = sumHeadStats(shards.map((s) => s.heads));
    const next = sgdStep(this.params, grads, this.sgdState, { learningRate, momentum: o.sgd.momentum,
      weightDecay: o.sgd.weightDecay });
    this.params = next.params;
    this.sgdState = next.state;
    o.lossWeighting.observe(new Map(summarizeHeads(heads).map((h) => [h.head, h.meanLoss])),
      learningRate);
    this.broadcastWeights();
    return heads;
  }

  /** Assigns a round's samples to the live workers and waits for every piece, reassigning on loss. */
  private async runRound(active: ActiveRound, indices: Uint32Array): Promise<void> {
    if (this.stopping) throw this.stopping;
    await this.waitForWorkers();
    this.active = active;
    try {
      this.assignPieces(active, [{ offset: 0, indices }]);
      await active.round.finished;
    } finally {
      this.active = undefined;
    }
  }

  private assignPieces(active: ActiveRound, pieces: readonly Piece[]): void {
    const workers = this.registry.ready();
    if (workers.length === 0) {
      active.round.park(pieces);
      this.log.warn({ samples: pieces.reduce((n, p) => n + p.indices.length, 0) }, 'no live worker: waiting for one');
      return;
    }
    // A worker's speed is 0 until it has answered once; treat unknown as the mean of the known ones.
    const known = workers.filter((w) => w.speed > 0);
    const fallback = known.length > 0 ? known.reduce((s, w) => s + w.speed, 0) / known.length : 1;
    const capacities: WorkerCapacity[] = workers.map((w) => ({ id: w.id, speed: w.speed > 0 ? w.speed : fallback }));
    for (const piece of pieces) {
      for (const shard of planShards(piece.indices, capacities)) {
        const task = taskId(this.nextTask++);
        const worker = this.registry.get(shard.worker)!;
        const assigned = { offset: piece.offset + shard.offset, indices: shard.indices };
        active.round.assign(task, worker.id, assigned);
        worker.tasks.add(task);
        void this.sendFrame(worker, encodeMessage(active.send(task, assigned)));
      }
    }
  }

  private async waitForWorkers(): Promise<void> {
    const min = this.options.minWorkers;
    let lastSaid = 0;
    while (this.registry.ready().length < min) {
      if (this.stopping) throw this.stopping;
      if (performance.now() - lastSaid > 5000) {
        this.log.info({ live: this.registry.ready().length, needed: min }, `waiting for workers (${this.registry.ready().length}/${min})`);
        lastSaid = performance.now();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.workerJoined = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.workerJoined = undefined;
    }
  }

  private broadcastWeights(): void {
    this.weightsVersion += 1;
    this.weightsFrame = encodeMessage({ type: 'weights', version: this.weightsVersion, tensors: this.params });
    for (const w of this.registry.ready()) void this.sendFrame(w, this.weightsFrame);
  }

  private currentWeightsFrame(): Uint8Array {
    this.weightsFrame ??= encodeMessage({ type: 'weights', version: this.weightsVersion, tensors: this.params });
    return this.weightsFrame;
  }

  private async sendFrame(worker: WorkerRecord | { routingId: Buffer }, frame: Uint8Array): Promise<void> {
    try {
      await this.socket.send([worker.routingId, frame]);
    } catch (error) {
      // ROUTER drops frames for peers that are gone; anything else is worth a line, never a crash.
      this.log.warn({ err: error }, 'send failed');
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const [routingId, frame, ...extra] = frames;
        if (!routingId || !frame || extra.length > 0) {
          this.log.warn({ frames: frames.length }, 'refused: unexpected frame count');
          continue;
        }
        try {
          this.handleFrame(routingId, frame);
        } catch (error) {
          this.log.error({ err: error }, 'failed to handle a message');
        }
      }
    } catch (error) {
      if (!this.socket.closed) this.log.error({ err: error }, 'receive loop failed');
    }
  }

  private handleFrame(routingId: Buffer, frame: Buffer): void {
    const sender = this.registry.byRoutingId(routingId);
    const from = sender ? { worker: sender.id, workerName: sender.name } : { routingId: routingId.toString('hex') };
    // A peer that never said hello gets nothing decoded beyond which message it sent (readInbound).
    const decoded = readInbound(frame, sender !== undefined || this.registry.wasRegistered(routingId), this.limits);
    if (decoded.kind === 'refused') {
      this.refuseInput(sender, routingId, decoded.code, decoded.reason, from);
      return;
    }
    if (decoded.kind === 'stranger') {
      this.refuseUnregistered(routingId, from, decoded.type);
      return;
    }
    const message = decoded.message;
    if (message.type === 'hello') {
      this.handleHello(routingId, decoded.protocolVersion, message);
      return;
    }
    if (!sender) {
      this.refuseUnregistered(routingId, from, message.type, message);
      return;
    }
    if (decoded.protocolVersion !== PROTOCOL_VERSION) {
      this.refuseInput(sender, routingId, 'ERR_PROTOCOL_VERSION', `envelope version ${decoded.protocolVersion}`, from);
      return;
    }
    sender.lastSeenMs = performance.now();
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'gradients':
        this.handleGradients(sender, message);
        return;
      case 'eval-result':
        this.handleEvalResult(sender, message);
        return;
      case 'goodbye':
        this.log.info({ worker: sender.id, workerName: sender.name, reason: boundedText(message.reason) }, 'worker left');
        this.dropWorker(sender, 'left');
        return;
      case 'error':
        this.log.warn({ worker: sender.id, code: boundedText(message.code, 40), task: message.taskId, message: boundedText(message.message) }, 'worker failed a task');
        this.reassign(sender, [message.taskId]);
        // A worker that fails every task would otherwise be handed its share back forever and pin the round.
        this.refuseInput(sender, routingId, 'ERR_COMPUTE', `worker failed task ${message.taskId}: ${message.message}`, from);
        return;
      case 'welcome':
      case 'refused':
      case 'step':
      case 'weights':
      case 'eval-request':
      case 'shutdown':
        this.refuseInput(sender, routingId, 'ERR_UNKNOWN_MESSAGE', `'${message.type}' is not a worker message`, from);
        return;
    }
  }

  /** A message other than hello from a connection without a live worker; `message` only if it was decoded. */
  private refuseUnregistered(routingId: Buffer, from: object, type: Message['type'], message?: Message): void {
    if (type === 'gradients' || type === 'eval-result') {
      // Typically a worker declared lost that was only slow: its task went to another worker already.
      const task = message?.type === 'gradients' ? { task: message.taskId, step: message.stepId }
        : message?.type === 'eval-result' ? { task: message.taskId } : {};
      this.log.warn({ ...from, type, ...task, code: 'ERR_STALE_TASK' }, `dropped ${type} from a worker that is not registered (lost or never joined)`);
    } else {
      this.log.warn({ ...from, type, code: 'ERR_NOT_REGISTERED' }, 'refused: message from a worker that never said hello');
    }
    void this.sendFrame({ routingId }, encodeMessage({ type: 'refused', code: 'ERR_NOT_REGISTERED', reason: 'say hello first' }));
  }

  private handleHello(routingId: Buffer, envelopeVersion: number, hello: Hello): void {
    const o = this.options;
    const refuse = (code: ErrorCode, reason: string): void => {
      this.log.warn({ routingId: routingId.toString('hex'), workerName: boundedText(hello.workerName, 64), host: boundedText(hello.host, 64),
        workerPid: hello.pid, code, reason }, 'refused worker');
      void this.sendFrame({ routingId }, encodeMessage({ type: 'refused', code, reason }));
    };
    const identity = peerIdentity({ host: hello.host, pid: hello.pid, name: hello.workerName });
    const problem = this.gate.helloProblem(identity, routingId.toString('hex'), performance.now())
      ?? admissionProblem(hello, envelopeVersion, { datasetFingerprint: o.dataset.fingerprint, modelKind: o.modelKind });
    if (problem) {
      refuse(problem.code, problem.reason);
      return;
    }
    const previous = this.registry.byRoutingId(routingId);
    if (previous) {
      // Hello again on the same connection (the worker thought we restarted): what it held would never come back.
      this.log.info({ worker: previous.id, workerName: previous.name, tasks: [...previous.tasks] }, 'worker said hello again: rejoining it');
      this.dropWorker(previous, 'left');
    }
    const record = this.registry.register({ routingId, name: hello.workerName, host: hello.host, pid: hello.pid,
      backend: hello.backend }, performance.now());
    this.log.info({ worker: record.id, workerName: record.name, host: record.host, workerPid: record.pid, backend: record.backend,
      live: this.registry.ready().length }, 'worker joined');
    void this.sendFrame(record, encodeMessage({ type: 'welcome', workerId: record.id,
      heartbeatIntervalMs: o.heartbeatIntervalMs, modelKind: o.modelKind, seed: o.seed }));
    void this.sendFrame(record, this.currentWeightsFrame());
    if (this.active) {
      const parked = this.active.round.takeParked();
      if (parked.length > 0) this.assignPieces(this.active, parked);
    }
    this.workerJoined?.();
  }

  private handleGradients(sender: WorkerRecord, m: Gradients): void {
    const round = this.active?.round;
    if (!round || round.kind !== 'step' || !round.holds(m.taskId) || round.workerOf(m.taskId) !== sender.id) {
      this.log.warn({ worker: sender.id, task: m.taskId, step: m.stepId, code: 'ERR_STALE_TASK' }, 'dropped gradients for a task that is not pending');
      return;
    }
    // The task is this step's, so its step id must be too: a mismatch is a confused or forged answer.
    const stepProblem = m.stepId !== this.active?.step ? `gradients say step ${m.stepId}, the task is of step ${this.active?.step}` : undefined;
    const problem = stepProblem ?? gradientProblem(m.grads, this.spec.params) ?? headsProblem(m.heads, this.spec.heads, m.sampleCount);
    if (problem) {
      this.refuseInput(sender, sender.routingId, 'ERR_BAD_GRADIENTS', problem, { worker: sender.id, task: m.taskId });
      this.reassign(sender, [m.taskId]);
      return;
    }
    const verdict = (round as TaskRound<StepShard>).complete(m.taskId, sender.id, m.sampleCount, { grads: m.grads, heads: m.heads });
    if (verdict !== 'accepted') {
      this.refuseInput(sender, sender.routingId, 'ERR_BAD_GRADIENTS', `gradients ${verdict} (${m.sampleCount} samples for task of ${round.expectedCount(m.taskId)})`, { worker: sender.id });
      this.reassign(sender, [m.taskId]);
      return;
    }
    sender.tasks.delete(m.taskId);
    this.registry.recordSpeed(sender.id, m.sampleCount, m.computeMs);
  }

  private handleEvalResult(sender: WorkerRecord, m: EvalResult): void {
    const round = this.active?.round;
    if (!round || round.kind !== 'eval' || !round.holds(m.taskId) || round.workerOf(m.taskId) !== sender.id) {
      this.log.warn({ worker: sender.id, task: m.taskId, code: 'ERR_STALE_TASK' }, 'dropped an evaluation result for a task that is not pending');
      return;
    }
    const problem = headsProblem(m.heads, this.spec.heads, m.sampleCount);
    const verdict = problem ? problem : (round as TaskRound<EvalShard>).complete(m.taskId, sender.id, m.sampleCount,
      { heads: m.heads, agreement: m.agreement });
    if (verdict !== 'accepted') {
      this.refuseInput(sender, sender.routingId, 'ERR_BAD_MESSAGE', `evaluation result: ${verdict}`, { worker: sender.id });
      this.reassign(sender, [m.taskId]);
      return;
    }
    sender.tasks.delete(m.taskId);
  }

  /** Logs a refused input; a registered worker past its fault limit is disconnected. */
  private refuseInput(sender: WorkerRecord | undefined, routingId: Buffer, code: ErrorCode, fullReason: string, from: object): void {
    const reason = boundedText(fullReason);
    this.log.warn({ ...from, code, reason }, `refused input: ${reason}`);
    if (!sender) return;
    // Counted against the worker's identity, not its connection: a new hello does not wipe the record.
    sender.faults = this.gate.recordFault(peerIdentity({ host: sender.host, pid: sender.pid, name: sender.name }));
    if (sender.faults > this.options.maxWorkerFaults) {
      this.log.warn({ worker: sender.id, workerName: sender.name, faults: sender.faults, code: 'ERR_TOO_MANY_FAULTS' }, 'disconnecting a worker that keeps sending bad input');
      void this.sendFrame({ routingId }, encodeMessage({ type: 'refused', code: 'ERR_TOO_MANY_FAULTS',
        reason: `${sender.faults} bad messages` }));
      this.dropWorker(sender, 'lost');
    }
  }

  /** Takes tasks back from a worker (it failed them) and gives them to the live workers. */
  private reassign(worker: WorkerRecord, tasks: readonly TaskId[]): void {
    const active = this.active;
    if (!active) return;
    const pieces: Piece[] = [];
    for (const t of tasks) {
      if (active.round.workerOf(t) !== worker.id) continue;
      const piece = active.round.reclaim(t);
      worker.tasks.delete(t);
      if (piece) pieces.push(piece);
    }
    if (pieces.length > 0) this.assignPieces(active, pieces);
  }

  private dropWorker(worker: WorkerRecord, state: 'lost' | 'left'): void {
    const tasks = this.registry.markGone(worker.id, state);
    const active = this.active;
    if (!active) return;
    const pieces = tasks.map((t) => active.round.reclaim(t)).filter((p): p is Piece => p !== undefined);
    if (pieces.length > 0) {
      this.log.info({ worker: worker.id, pieces: pieces.length, samples: pieces.reduce((n, p) => n + p.indices.length, 0) }, 'reassigning the tasks of a departed worker');
      this.assignPieces(active, pieces);
    }
  }

  private checkLiveness(): void {
    const now = performance.now();
    for (const w of this.registry.silent(now, this.options.workerTimeoutMs)) {
      this.log.warn({ worker: w.id, workerName: w.name, host: w.host, workerPid: w.pid, routingId: w.routingKey,
        silentMs: Math.round(now - w.lastSeenMs), tasks: [...w.tasks], round: this.active?.round.kind ?? null,
        step: w.tasks.size > 0 ? this.active?.step ?? null : null, code: 'ERR_WORKER_LOST' }, 'worker lost');
      this.dropWorker(w, 'lost');
    }
    const beat = encodeMessage({ type: 'heartbeat', sentAtMs: Date.now() });
    for (const w of this.registry.ready()) void this.sendFrame(w, beat);
  }
}


export type { CoordinatorOptions, DatasetInfo, StepInfo, TrainResult } from './coordinator-options.js';
