// A server on the tiny model, in this process, on a free loopback port.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Moondream, createServer, type MoondreamServer, type ServerOptions } from '../../src/index.js';
import { tinyPair } from './tiny-model.js';

export const FIXTURE = (name: string): string => new URL(`../../../test/fixtures/images/${name}`, import.meta.url).pathname;

export interface TinyServer {
  md: Moondream;
  server: MoondreamServer;
  url: string;
  close(): Promise<void>;
}

export async function tinyModel(): Promise<Moondream> {
  const pair = await tinyPair('q8_0', 'f16');
  return Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
}

export async function startTinyServer(options: Omit<ServerOptions, 'model'> = {}, md?: Moondream): Promise<TinyServer> {
  const model = md ?? await tinyModel();
  const server = createServer({ model, port: 0, ...options });
  const url = await server.listen();
  await server.loaded;
  return {
    md: model,
    server,
    url,
    close: async () => {
      await server.close();
      if (!md) model.dispose();
    },
  };
}

export function imageBytes(name: string): Buffer {
  return readFileSync(FIXTURE(name));
}

export function dataUrl(name: string, mime = 'image/png'): string {
  return `data:${mime};base64,${imageBytes(name).toString('base64')}`;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A chat completion request body about one fixture image. */
export function chatBody(question: string, image = 'smooth_600x450.png', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'moondream1',
    messages: [{ role: 'user', content: [{ type: 'text', text: question }, { type: 'image_url', image_url: { url: dataUrl(image) } }] }],
    ...extra,
  });
}

export function postChat(url: string, body: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...init });
}

/** The `data:` payloads of an SSE response, parsed ([DONE] as the string). */
export async function* sseEvents(response: Response): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        yield data === '[DONE]' ? data : JSON.parse(data);
      }
    }
  }
}

/** A metric's value from Prometheus text (the sample whose name and labels match exactly). */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}

export async function metrics(url: string, headers: Record<string, string> = {}): Promise<string> {
  return (await fetch(`${url}/metrics`, { headers })).text();
}
