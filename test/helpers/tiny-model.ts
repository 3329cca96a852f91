// The tiny generated moondream1 checkpoint and its conversions, made once per test file in a
// temporary folder (seconds), plus a way to derive broken or reshaped copies of it.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeMoondream1Checkpoint } from '../../scripts/lib/moondream1-checkpoint.js';
import { convertCheckpoint, type ConvertResult } from '../../src/convert/convert.js';
import type { TextType, VisionType } from '../../src/convert/quant-types.js';
import { SafetensorsFile } from '../../src/convert/safetensors.js';
import { SafetensorsWriter } from '../../src/convert/safetensors-writer.js';
import type { SafetensorsDtype } from '../../src/convert/safetensors-format.js';
import { tempDir } from './temp-dir.js';

export const TINY_SEED = 7;

const root = tempDir('moondream-tiny-');
let checkpoint: Promise<string> | undefined;
const conversions = new Map<string, Promise<ConvertResult>>();

/** The tiny checkpoint folder (model.safetensors, tokenizer.json, config.json). */
export function tinyCheckpoint(): Promise<string> {
  checkpoint ??= (async () => {
    const dir = join(root, 'checkpoint');
    await writeMoondream1Checkpoint({ size: 'tiny', seed: TINY_SEED, outDir: dir });
    return dir;
  })();
  return checkpoint;
}

/** The tiny checkpoint converted to a GGUF pair of these types (cached). */
export function tinyPair(textType: TextType, visionType: VisionType = 'f16'): Promise<ConvertResult> {
  const key = `${textType}-${visionType}`;
  let pending = conversions.get(key);
  if (!pending) {
    pending = (async () => convertCheckpoint({ checkpointDir: await tinyCheckpoint(), outDir: join(root, key), textType, visionType, threads: 2 }))();
    conversions.set(key, pending);
  }
  return pending;
}

export interface EditedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/**
 * A copy of the tiny checkpoint in a new folder, its tensors passed through `edit` first (drop,
 * rename, reshape, ...). tokenizer.json and config.json are copied unchanged.
 */
export async function editedCheckpoint(name: string, edit: (tensors: EditedTensor[]) => EditedTensor[]): Promise<string> {
  const source = await tinyCheckpoint();
  const dir = join(root, `edited-${name}`);
  await mkdir(dir, { recursive: true });
  const file = await SafetensorsFile.open(join(source, 'model.safetensors'));
  const tensors: EditedTensor[] = [];
  try {
    for (const [tensorName, info] of file.tensors) {
      tensors.push({ name: tensorName, dtype: info.dtype, shape: [...info.shape], data: await file.read(tensorName) });
    }
  } finally {
    await file.close();
  }
  const edited = edit(tensors);
  const writer = await SafetensorsWriter.create(join(dir, 'model.safetensors'), edited.map(({ name: n, dtype, shape }) => ({ name: n, dtype, shape })));
  const byName = new Map(edited.map((t) => [t.name, t]));
  for (const tensorName of writer.order) await writer.writeTensor(tensorName, byName.get(tensorName)!.data);
  await writer.finish();
  await copyFile(join(source, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  await copyFile(join(source, 'config.json'), join(dir, 'config.json'));
  return dir;
}
