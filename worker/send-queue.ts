/** The one method of a zeromq.js socket a SendQueue needs. */
export interface Sender<M> {
  send(message: M): Promise<void>;
}

/**
 * zeromq.js allows one blocking send at a time per socket (a second one fails with EBUSY). This chains sends in
 * order, and refuses new ones past `limit` waiting so a peer that is gone cannot make memory grow without bound.
 */
export class SendQueue<M> {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly socket: Sender<M>, private readonly limit = 64) {}

  /** Resolves once queued on the socket; rejects when the queue is full or the socket fails. */
  send(message: M): Promise<void> {
    if (this.waiting >= this.limit) return Promise.reject(new Error(`send queue full (${this.limit} messages waiting)`));
    this.waiting += 1;
    const result = this.tail.then(() => this.socket.send(message)).finally(() => {
      this.waiting -= 1;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
