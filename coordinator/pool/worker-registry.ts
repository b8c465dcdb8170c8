import { workerId, type TaskId, type WorkerId } from '../../shared/protocol/ids.js';

/** A worker's life: ready (takes tasks), then lost (silent or disconnected) or left (said goodbye). */
export type WorkerState = 'ready' | 'lost' | 'left';

export interface WorkerRecord {
  readonly id: WorkerId;
  /** ZeroMQ routing id of its connection, as the ROUTER socket reports it. */
  readonly routingKey: string;
  readonly routingId: Buffer;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
  state: WorkerState;
  lastSeenMs: number;
  /** Samples per second, a running mean of its answers; starts at 1 so new workers get an even share. */
  speed: number;
  /** Bad messages it has sent; past the limit it is disconnected. */
  faults: number;
  readonly tasks: Set<TaskId>;
}

/** Rate of the running mean of a worker's speed: recent steps dominate, one slow step does not. */
const SPEED_RATE = 0.3;

/**
 * Who is connected and in what state. Pure bookkeeping (no sockets), so its transitions are tested on their own.
 */
export class WorkerRegistry {
  private readonly byId = new Map<WorkerId, WorkerRecord>();
  private readonly byRouting = new Map<string, WorkerId>();
  /** Routing ids of connections whose worker said hello and has since gone: their late answers are recognised. */
  private readonly formerRouting = new Set<string>();
  private nextNumber = 1;

  register(info: { routingId: Buffer; name: string; host: string; pid: number; backend: string }, nowMs: number): WorkerRecord {
    const routingKey = info.routingId.toString('hex');
    const previous = this.byRouting.get(routingKey);
    if (previous) this.markGone(previous, 'left');
    const id = workerId(`w${this.nextNumber++}`);
    const record: WorkerRecord = { id, routingKey, routingId: info.routingId, name: info.name, host: info.host,
      pid: info.pid, backend: info.backend, state: 'ready', lastSeenMs: nowMs, speed: 0, faults: 0, tasks: new Set() };
    this.byId.set(id, record);
    this.byRouting.set(routingKey, id);
    return record;
  }

  /** The live worker behind a routing id, if it said hello and is not gone. */
  byRoutingId(routingId: Buffer): WorkerRecord | undefined {
    const id = this.byRouting.get(routingId.toString('hex'));
    const record = id === undefined ? undefined : this.byId.get(id);
    return record?.state === 'ready' ? record : undefined;
  }

  /** Whether a worker on this connection said hello once (it may be gone now). */
  wasRegistered(routingId: Buffer): boolean {
    const key = routingId.toString('hex');
    return this.byRouting.has(key) || this.formerRouting.has(key);
  }

  get(id: WorkerId): WorkerRecord | undefined {
    return this.byId.get(id);
  }

  ready(): WorkerRecord[] {
    return [...this.byId.values()].filter((w) => w.state === 'ready');
  }

  /** Marks a worker lost or left; returns the tasks it held, which the caller reassigns. */
  markGone(id: WorkerId, state: 'lost' | 'left'): TaskId[] {
    const record = this.byId.get(id);
    if (!record || record.state !== 'ready') return [];
    record.state = state;
    this.byRouting.delete(record.routingKey);
    this.formerRouting.add(record.routingKey);
    const tasks = [...record.tasks];
    record.tasks.clear();
    return tasks;
  }

  /** Ready workers silent for longer than `timeoutMs`. */
  silent(nowMs: number, timeoutMs: number): WorkerRecord[] {
    return this.ready().filter((w) => nowMs - w.lastSeenMs > timeoutMs);
  }

  recordSpeed(id: WorkerId, samples: number, computeMs: number): void {
    const record = this.byId.get(id);
    if (!record || !(computeMs > 0) || samples <= 0) return;
    const speed = (samples * 1000) / computeMs;
    record.speed = record.speed === 0 ? speed : (1 - SPEED_RATE) * record.speed + SPEED_RATE * speed;
  }
}
