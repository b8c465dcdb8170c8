import { Router } from 'zeromq';
import { usesIpv6 } from '../../shared/common/endpoint.js';
import { DdpError } from '../../shared/common/errors.js';
import { taskId, type WorkerId } from '../../shared/protocol/ids.js';
import type { Logger } from '../../shared/common/logger.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { Message } from '../../shared/protocol/messages.js';
import type { WorkerLinks } from '../step-exchange/step-exchange.js';
import type { DatasetServer } from '../dataset-server.js';
import type { RunEventBody, RunEventSink } from '../observe/run-events.js';
import { applyServerSecurity, type ServerSecurity } from '../server-security.js';
import type { WireLimits } from '../../shared/protocol/wire-limits.js';
import { logDroppedConnections } from './dropped-connections.js';
import { readInbound } from './inbox.js';
import { dispatchInbound, type InboundDesk } from './inbound-dispatch.js';
import { RoundRunner, type RoundInFlight, type RoundSpec } from './round-runner.js';
import { Membership, type MembershipTerms } from './membership.js';
import type { DeadlinePolicy } from './deadline.js';
import { predictTaskMs, type TaskTimeFit } from './task-time-model.js';
import { StragglerWatch } from './straggler-watch.js';

export interface PoolOptions extends MembershipTerms {
  readonly bind: string;
  /** Bounds of this run's frames (shared/protocol/wire-limits.ts): the socket's maxMessageSize and each field's. */
  readonly limits: WireLimits;
  readonly security: ServerSecurity;
  /** Workers needed before a round starts; below it the pool waits and says so. */
  readonly minWorkers: number;
  /** Messages (frames) a worker admitted needs before its first task, e.g. the current weights. */
  readonly joinFrames: () => readonly Uint8Array[];
  /** Task deadlines from the workers' fitted speeds (see defaultDeadlinePolicy). */
  readonly deadlines: DeadlinePolicy;
  readonly log: Logger;
  /** Where joins, losses, refusals, reassignments, worker status and socket traffic are reported. */
  readonly events?: RunEventSink;
  /** Sends the decoded set to workers that have none (DatasetRequest); absent: such requests are refused. */
  readonly datasetServer?: DatasetServer;
}

/** open: admitting and running rounds; stopping: rounds refused, the one in flight abandoned; closed: socket gone. */
export type PoolState = { readonly kind: 'open' } | { readonly kind: 'stopping'; readonly reason: DdpError } | { readonly kind: 'closed' };

/**
 * The coordinator's side of the wire: binds a ROUTER socket, admits workers, tracks who is live (heartbeats both
 * ways), counts each worker's bad messages, and runs rounds of tasks over the live workers. Knows nothing of
 * training: what a task means and what an answer holds is the round's business.
 */
export class WorkerPool implements WorkerLinks {
  private readonly members: Membership;
  private readonly stragglers: StragglerWatch;
  private readonly log: Logger;
  private state: PoolState = { kind: 'open' };
  private current: RoundInFlight | undefined;
  private nextTask = 1;
  /** How long decoding the frame being handled took: rounds read it for their step's phase breakdown. */
  private decodeMs = 0;
  private workerJoined: (() => void) | undefined;
  private readonly monitor: NodeJS.Timeout;
  private readonly receiving: Promise<void>;
  /** What the inbound dispatch acts on. */
  private readonly desk: InboundDesk;

  private constructor(private readonly options: PoolOptions, private readonly socket: Router, readonly endpoint: string) {
    this.log = options.log.child({ component: 'coordinator' });
    this.members = new Membership(options, {
      send: (to, message) => this.sendMessage(to, message),
      joined: (worker) => {
        void this.sendFrames(worker, options.joinFrames());
        this.current?.workerJoined();
        this.workerJoined?.();
      },
      departed: (worker, tasks) => {
        this.stragglers.departed(worker);
        this.current?.reclaim(worker, tasks, 'departed');
      },
      roundInFlight: () => this.current,
      event: (body) => this.emit(body),
    }, this.log);
    this.stragglers = new StragglerWatch(options.deadlines, options.workerTimeoutMs / 2, { registry: this.members.registry, log: this.log,
      current: () => this.current, disconnect: (worker, reason) => {
        this.log.warn({ worker: worker.id, workerName: worker.name, reason, code: 'ERR_TOO_MANY_FAULTS' }, 'disconnecting a worker that keeps missing deadlines');
        this.sendMessage(worker, { type: 'refused', code: 'ERR_TOO_MANY_FAULTS', reason });
        this.members.drop(worker, 'lost');
      } });
    this.desk = { members: this.members, stragglers: this.stragglers, log: this.log, datasetServer: options.datasetServer,
      current: () => this.current, sendMessage: (to, message) => this.sendMessage(to, message) };
    this.receiving = this.receiveLoop();
    this.monitor = setInterval(() => this.checkLiveness(), options.heartbeatIntervalMs);
  }

  /** Binds the socket. @throws DdpError ERR_INSECURE_BIND for a non-loopback bind without CURVE or --insecure. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    // No send high-water mark: a send never blocks, so one slow peer cannot hold up the others; a silent peer is
    // dropped after workerTimeoutMs, which bounds what queues for it.
    // Frames over the run's largest legitimate message are dropped by libzmq before they are read into memory.
    const socket = new Router({ linger: 500, sendHighWaterMark: 0, receiveHighWaterMark: 0, ipv6: usesIpv6(options.bind),
      maxMessageSize: options.limits.maxMessageBytes });
    logDroppedConnections(socket, options.limits, options.log.child({ component: 'coordinator' }));
    await applyServerSecurity(socket, options.bind, options.security, options.log);
    await socket.bind(options.bind);
    const endpoint = socket.lastEndpoint ?? options.bind;
    options.log.info({ endpoint, model: options.modelKind }, 'coordinator listening');
    return new WorkerPool(options, socket, endpoint);
  }

  get lifecycle(): PoolState {
    return this.state;
  }

  liveWorkers(): number {
    return this.members.registry.ready().length;
  }

  live(): readonly WorkerId[] {
    return this.members.registry.ready().map((w) => w.id);
  }

  /** The decode time of the frame being handled (valid while a round reads its answer). */
  lastDecodeMs(): number {
    return this.decodeMs;
  }

  /** Runs a round over `indices` once enough workers are live; resolves with its results in sample order. */
  async runRound<R>(spec: RoundSpec<R>, indices: Uint32Array): Promise<R[]> {
    this.throwIfStopping();
    await this.waitForWorkers();
    const runner = new RoundRunner(spec, indices.length, { registry: this.members.registry, log: this.log,
      nextTaskId: () => taskId(this.nextTask++), busy: (worker) => this.stragglers.busy(worker),
      freeInMs: (worker) => this.stragglers.freeInMs(worker), outrun: (worker, task) => this.stragglers.outrun(worker, task),
      sendTask: (worker, task, samples, message) => {
        this.stragglers.sent(task, worker, spec.kind, samples);
        void this.sendFrames(worker, [encodeMessage(message)]);
      }, event: (body) => this.emit(body) });
    this.current = runner;
    try {
      return await runner.run(indices);
    } finally {
      this.current = undefined;
    }
  }

  broadcast(frames: readonly Uint8Array[]): void {
    for (const w of this.members.registry.ready()) this.sendFrames(w, frames);
  }

  send(worker: WorkerId, frames: readonly Uint8Array[]): void {
    const record = this.members.registry.get(worker);
    if (record?.state === 'ready') this.sendFrames(record, frames);
  }

  /** Refuses further rounds and abandons the one in flight (it fails with ERR_SHUTDOWN). */
  stop(reason: string): void {
    if (this.state.kind !== 'open') return;
    const error = new DdpError('ERR_SHUTDOWN', reason);
    this.state = { kind: 'stopping', reason: error };
    this.current?.abort(error);
    this.workerJoined?.();
  }

  /** Tells the workers the run is over and closes the socket. */
  async close(reason = 'run finished', resumable = false): Promise<void> {
    if (this.state.kind === 'closed') return;
    this.stop(reason);
    this.state = { kind: 'closed' };
    clearInterval(this.monitor);
    const frame = encodeMessage({ type: 'shutdown', reason, resumable });
    for (const w of this.members.registry.ready()) await this.sendFrames(w, [frame]);
    // Give the shutdown frames a moment to leave before the socket goes.
    await new Promise((r) => setTimeout(r, 100));
    this.socket.close();
    await this.receiving.catch(() => undefined);
  }

  private throwIfStopping(): void {
    if (this.state.kind === 'stopping') throw this.state.reason;
    if (this.state.kind === 'closed') throw new DdpError('ERR_SHUTDOWN', 'the worker pool is closed');
  }

  private async waitForWorkers(): Promise<void> {
    const min = this.options.minWorkers;
    let lastSaid = 0;
    while (this.members.registry.ready().length < min) {
      this.throwIfStopping();
      if (performance.now() - lastSaid > 5000) {
        this.log.info({ live: this.members.registry.ready().length, needed: min }, `waiting for workers (${this.members.registry.ready().length}/${min})`);
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

  private emit(body: RunEventBody): void {
    this.options.events?.emit(body);
  }

  private async sendFrames(worker: { readonly routingId: Buffer; readonly name?: string }, frames: readonly Uint8Array[]): Promise<void> {
    if (this.options.events) {
      this.emit({ kind: 'wire', direction: 'out', bytes: frames.reduce((n, f) => n + f.length, 0), ...(worker.name !== undefined ? { worker: worker.name } : {}) });
    }
    try {
      await this.socket.send([worker.routingId, ...frames]);
    } catch (error) {
      // ROUTER drops frames for peers that are gone; anything else is worth a line, never a crash.
      this.log.warn({ err: error }, 'send failed');
    }
  }

  private sendMessage(to: { readonly routingId: Buffer }, message: Message): void {
    void this.sendFrames(to, [encodeMessage(message)]);
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
          const sender = this.members.registry.byRoutingId(routingId);
          if (this.options.events) this.emit({ kind: 'wire', direction: 'in', bytes: frame.length, ...(sender ? { worker: sender.name } : {}) });
          const from = { worker: sender, saidHello: sender !== undefined || this.members.registry.wasRegistered(routingId) };
          const started = performance.now();
          const inbound = readInbound(frame, from, this.options.limits);
          this.decodeMs = performance.now() - started;
          dispatchInbound(this.desk, routingId, inbound);
        } catch (error) {
          this.log.error({ err: error }, 'failed to handle a message');
        }
      }
    } catch (error) {
      if (!this.socket.closed) this.log.error({ err: error }, 'receive loop failed');
    }
  }

  private checkLiveness(): void {
    const now = performance.now();
    this.members.dropSilent(now);
    this.emit({ kind: 'worker-status', workers: this.members.registry.ready().map((w) => ({ worker: w.name, silentMs: now - w.lastSeenMs,
      faults: w.faults, samplesPerSecond: samplesPerSecond(w.taskTimes.step.fit) })) });
    this.stragglers.check(now);
    this.broadcast([encodeMessage({ type: 'heartbeat' })]);
  }
}

/** A worker's training rate for the views: samples per second of a 32-sample task under its fitted step times; 0 until fitted. */
function samplesPerSecond(fit: TaskTimeFit | undefined): number {
  return fit ? 32_000 / predictTaskMs(fit, 32) : 0;
}
