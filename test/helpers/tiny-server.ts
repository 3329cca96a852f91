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
