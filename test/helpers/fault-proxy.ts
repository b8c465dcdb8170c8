import { Dealer, Router } from 'zeromq';
import { decodeMessage } from '../../shared/protocol/codec.js';

/** What the proxy does to a worker's answers: pass them, hold each back until it took `factor` times as long, or never. */
export type AnswerFault = { readonly kind: 'none' } | { readonly kind: 'slow'; readonly factor: number } | { readonly kind: 'hang' };

/** A task as it went through the proxy to the worker. */
export interface TaskSeen {
  readonly taskId: number;
  readonly type: 'step' | 'eval-request';
  readonly samples: number;
  readonly stepId?: number;
  readonly at: number;
}

/**
 * A fault-injecting ZeroMQ proxy between real workers and the coordinator (test only). Workers connect to
 * `endpoint`; each connection gets its own Dealer to the coordinator, so the coordinator sees one peer per worker.
 * Everything passes both ways unchanged (hello, heartbeats, weights, tasks) except the workers' answers while a
 * fault is set: held back (a worker whose compute is slow) or never delivered (compute that hangs while the event
 * loop and heartbeats go on). It stands in for a slow or hung compute, which the coordinator cannot tell apart.
 */
export class FaultProxy {
  fault: AnswerFault = { kind: 'none' };
  readonly tasks: TaskSeen[] = [];
  private readonly upstream = new Map<string, Dealer>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly front: Router, private readonly target: string, readonly endpoint: string) {
    void this.pumpFront();
  }

  static async start(target: string): Promise<FaultProxy> {
    const front = new Router({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
    await front.bind('tcp://127.0.0.1:*');
    return new FaultProxy(front, target, front.lastEndpoint!);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const d of this.upstream.values()) d.close();
    this.front.close();
  }

  private async pumpFront(): Promise<void> {
    try {
      for await (const [routingId, frame] of this.front) {
        if (!routingId || !frame) continue;
        const key = routingId.toString('hex');
        let up = this.upstream.get(key);
        if (!up) {
          up = new Dealer({ linger: 0, sendHighWaterMark: 0 });
          up.connect(this.target);
          this.upstream.set(key, up);
          void this.pumpBack(up, Buffer.from(routingId));
        }
        this.forwardUp(up, frame);
      }
    } catch {
      // closed
    }
  }

  private forwardUp(up: Dealer, frame: Buffer): void {
    const decoded = decodeMessage(frame);
    const m = decoded.ok ? decoded.message : undefined;
    const isAnswer = m?.type === 'gradients' || m?.type === 'eval-result';
    if (!isAnswer || this.fault.kind === 'none') {
      void up.send(frame).catch(() => undefined);
      return;
    }
    if (this.fault.kind === 'hang') return;
    const seen = this.tasks.find((t) => t.taskId === m.taskId);
    const tookMs = seen ? performance.now() - seen.at : 0;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void up.send(frame).catch(() => undefined);
    }, (this.fault.factor - 1) * tookMs);
    this.timers.add(timer);
  }

  private async pumpBack(up: Dealer, routingId: Buffer): Promise<void> {
    try {
      for await (const [frame] of up) {
        if (!frame) continue;
        const decoded = decodeMessage(frame);
        if (decoded.ok && (decoded.message.type === 'step' || decoded.message.type === 'eval-request')) {
          const m = decoded.message;
          this.tasks.push({ taskId: m.taskId, type: m.type, samples: m.sampleIndices.length, at: performance.now(),
            ...(m.type === 'step' ? { stepId: m.stepId } : {}) });
        }
        await this.front.send([routingId, frame]).catch(() => undefined);
      }
    } catch {
      // closed
    }
  }
}
