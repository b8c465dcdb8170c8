import type { ErrorCode } from '../../shared/common/errors.js';
import type { TaskId } from '../../shared/protocol/ids.js';
import type { Logger } from '../../shared/common/logger.js';
import type { ModelKind } from '../../shared/model/model-spec.js';
import type { Hello, Message } from '../../shared/protocol/messages.js';
import type { RunEventBody } from '../observe/run-events.js';
import { boundedText } from '../../shared/common/bounded-text.js';
import { admissionProblem } from './admission.js';
import { DEFAULT_GATE, PeerGate } from './peer-gate.js';
import { peerIdentity } from './peer-identity.js';
import { WorkerRegistry, type WorkerRecord } from './worker-registry.js';

/** What a worker must share to join (checked in its hello), what its welcome tells it, and the limits it lives by. */
export interface MembershipTerms {
  readonly datasetFingerprint: string;
  readonly modelKind: ModelKind;
  readonly seed: number;
  readonly heartbeatIntervalMs: number;
  /** A worker silent this long is declared lost and its tasks reassigned. */
  readonly workerTimeoutMs: number;
  /** Bad messages tolerated from one worker before it is disconnected. */
  readonly maxWorkerFaults: number;
}

/** How membership reaches the wire and the round in flight. */
export interface MembershipHooks {
  send(to: { readonly routingId: Buffer }, message: Message): void;
  /** A worker was admitted and welcomed: it gets what it needs before its first task, then a share of the round. */
  joined(worker: WorkerRecord): void;
  /** A worker left or was lost holding these tasks; the round takes them back. */
  departed(worker: WorkerRecord, tasks: readonly TaskId[]): void;
  /** The round in flight, named in the line that says a worker was lost. */
  roundInFlight(): { readonly kind: string; readonly context: Readonly<Record<string, unknown>> } | undefined;
  /** Joins, departures and refusals, for the run's views (dashboard, metrics). */
  event(body: RunEventBody): void;
}

/**
 * Who is in the pool: admits or refuses a hello, counts each worker's bad messages (past the limit it is
 * disconnected), and declares silent workers lost. Every departure hands the worker's tasks back.
 */
export class Membership {
  readonly registry = new WorkerRegistry();
  /** Fault records per worker identity (they outlive connections and hellos) and hello rate limits. */
  private readonly gate: PeerGate;

  constructor(private readonly terms: MembershipTerms, private readonly hooks: MembershipHooks, private readonly log: Logger) {
    this.gate = new PeerGate({ maxFaults: terms.maxWorkerFaults, ...DEFAULT_GATE });
  }

  admit(routingId: Buffer, envelopeVersion: number, hello: Hello): void {
    const t = this.terms;
    const identity = peerIdentity({ host: hello.host, pid: hello.pid, name: hello.workerName });
    const problem = this.gate.helloProblem(identity, routingId.toString('hex'), performance.now())
      ?? admissionProblem(hello, envelopeVersion, { datasetFingerprint: t.datasetFingerprint, modelKind: t.modelKind });
    if (problem) {
      this.log.warn({ routingId: routingId.toString('hex'), workerName: boundedText(hello.workerName, 64), host: boundedText(hello.host, 64), workerPid: hello.pid,
        code: problem.code, reason: problem.reason }, 'refused worker');
      this.hooks.event({ kind: 'input-refused', code: problem.code, reason: `hello from ${hello.workerName}: ${problem.reason}` });
      this.hooks.send({ routingId }, { type: 'refused', code: problem.code, reason: problem.reason });
      return;
    }
    const previous = this.registry.byRoutingId(routingId);
    if (previous) {
      // Hello again on the same connection (the worker thought we restarted): what it held would never come back.
      this.log.info({ worker: previous.id, workerName: previous.name, tasks: [...previous.tasks] }, 'worker said hello again: rejoining it');
      this.drop(previous, 'left');
    }
    const record = this.registry.register({ routingId, name: hello.workerName, host: hello.host, pid: hello.pid,
      backend: hello.backend }, performance.now());
    this.log.info({ worker: record.id, workerName: record.name, host: record.host, workerPid: record.pid, backend: record.backend,
      live: this.registry.ready().length }, 'worker joined');
    this.hooks.event({ kind: 'worker-joined', worker: record.name, id: record.id, host: record.host, pid: record.pid, backend: record.backend });
    this.hooks.send(record, { type: 'welcome', workerId: record.id, heartbeatIntervalMs: t.heartbeatIntervalMs,
      workerTimeoutMs: t.workerTimeoutMs,
      modelKind: t.modelKind, seed: t.seed });
    this.hooks.joined(record);
  }

  /** Logs a refused input; a registered worker past its fault limit is disconnected. */
  refuseInput(sender: WorkerRecord | undefined, routingId: Buffer, code: ErrorCode, fullReason: string, from: object): void {
    const reason = boundedText(fullReason);
    this.log.warn({ ...from, code, reason }, `refused input: ${reason}`);
    this.hooks.event({ kind: 'input-refused', code, reason, ...(sender ? { worker: sender.name } : {}) });
    if (!sender) return;
    // Counted against the worker's identity, not its connection: a new hello does not wipe the record.
    sender.faults = this.gate.recordFault(peerIdentity({ host: sender.host, pid: sender.pid, name: sender.name }));
    if (sender.faults > this.terms.maxWorkerFaults) {
      this.log.warn({ worker: sender.id, workerName: sender.name, faults: sender.faults, code: 'ERR_TOO_MANY_FAULTS' }, 'disconnecting a worker that keeps sending bad input');
      this.hooks.send({ routingId }, { type: 'refused', code: 'ERR_TOO_MANY_FAULTS', reason: `${sender.faults} bad messages` });
      this.drop(sender, 'lost', 'ERR_TOO_MANY_FAULTS');
    }
  }

  drop(worker: WorkerRecord, state: 'lost' | 'left', code: ErrorCode = 'ERR_WORKER_LOST'): void {
    const tasks = this.registry.markGone(worker.id, state);
    this.hooks.event(state === 'lost' ? { kind: 'worker-lost', worker: worker.name, id: worker.id, code, tasks: tasks.length }
      : { kind: 'worker-left', worker: worker.name, id: worker.id, tasks: tasks.length });
    this.hooks.departed(worker, tasks);
  }

  /** Declares workers silent past the timeout lost. */
  dropSilent(nowMs: number): void {
    const round = this.hooks.roundInFlight();
    for (const w of this.registry.silent(nowMs, this.terms.workerTimeoutMs)) {
      this.log.warn({ worker: w.id, workerName: w.name, host: w.host, workerPid: w.pid, routingId: w.routingKey,
        silentMs: Math.round(nowMs - w.lastSeenMs), tasks: [...w.tasks], round: round?.kind ?? null, ...(w.tasks.size > 0 ? round?.context : {}),
        code: 'ERR_WORKER_LOST' }, 'worker lost');
      this.drop(w, 'lost');
    }
  }
}
