// What /v1/models and /api/tags say about the loaded pair, read from the GGUF headers only.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { readGgufInfo } from '../gguf/read.js';
import type { ModelFiles } from '../model-files.js';
import type { ModelDescription } from './route-context.js';

export async function describeModel(files: Readonly<ModelFiles>, name: string): Promise<ModelDescription> {
  const paths = [files.text, ...(files.mmproj ? [files.mmproj] : [])];
  const infos = await Promise.all(paths.map((p) => readGgufInfo(p)));
  const parameters = infos.flatMap((i) => i.tensors).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  const textType = /text-model-([a-z0-9_]+)\.gguf$/i.exec(basename(files.text))?.[1] ?? 'unknown';
  // An identity of the pair (names and sizes), not a content hash: hashing gigabytes at start-up
  // would delay readiness for a field that clients only display.
  const identity = createHash('sha256').update(paths.map((p, i) => `${basename(p)}:${infos[i]!.fileSize}`).join('\n')).digest('hex');
  return {
    name,
    created: Math.floor(Date.now() / 1000),
    sizeBytes: infos.reduce((sum, i) => sum + i.fileSize, 0),
    digest: identity,
    quantization: textType.toUpperCase(),
    parameterSize: parameters >= 1e9 ? `${(parameters / 1e9).toFixed(1)}B` : `${(parameters / 1e6).toFixed(0)}M`,
  };
}
