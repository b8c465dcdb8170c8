import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A file the run appends to as it goes (events.jsonl, the TensorBoard event file). A failed write is kept, not
 * thrown: the run goes on, later writes are skipped, and close() reports it.
 */
export class AppendFile {
  private readonly stream: WriteStream;
  private failure: unknown;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a' });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  write(data: string | Uint8Array): void {
    if (this.failure === undefined) this.stream.write(data);
  }

  /** @throws the fs error if a write failed. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.failure !== undefined) throw this.failure;
  }
}
