// A streamed response (SSE or NDJSON) whose headers go out with its first chunk, so anything
// that fails before the first piece (queue full, bad image) still gets a proper status and body.
import type { FastifyReply } from 'fastify';

export class LazyStream {
  private started = false;

  constructor(private readonly reply: FastifyReply, private readonly contentType: string) {}

  get hasStarted(): boolean {
    return this.started;
  }

  write(chunk: string): void {
    const raw = this.reply.raw;
    if (!this.started) {
      this.started = true;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(this.reply.getHeaders())) if (value !== undefined) headers[name] = String(value);
      this.reply.hijack();
      raw.writeHead(200, {
        ...headers,
        'content-type': this.contentType,
        'cache-control': 'no-cache',
        // nginx would otherwise buffer the stream and deliver it in one piece.
        'x-accel-buffering': 'no',
      });
    }
    if (!raw.destroyed) raw.write(chunk);
  }

  end(chunk?: string): void {
    if (chunk !== undefined) this.write(chunk);
    if (!this.reply.raw.destroyed) this.reply.raw.end();
  }
}
