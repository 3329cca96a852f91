// Finding the GGUF pair: either given explicitly or found in a folder by the converter's names.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MoondreamError, invalidArgument } from './errors.js';
import { modelFileKind, modelFilePattern } from './model-file-names.js';

export interface ModelFiles {
  /** The phi2 text model GGUF. */
  text: string;
  /** The clip/mmproj GGUF; omit it to load the text model alone (tokenize, generate). */
  mmproj?: string;
}

export type ModelSource = string | ModelFiles;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Resolves a folder to its one text GGUF and one mmproj GGUF; checks explicit paths' shape. */
export async function resolveModelFiles(source: ModelSource): Promise<ModelFiles> {
  if (typeof source === 'object' && source !== null && !Array.isArray(source)) {
    if (typeof source.text !== 'string' || source.text.length === 0) throw invalidArgument('model.text', 'a GGUF file path', source.text);
    if (source.mmproj !== undefined && (typeof source.mmproj !== 'string' || source.mmproj.length === 0)) {
      throw invalidArgument('model.mmproj', 'a GGUF file path or undefined', source.mmproj);
    }
    return source.mmproj === undefined ? { text: source.text } : { text: source.text, mmproj: source.mmproj };
  }
  if (typeof source !== 'string' || source.length === 0) {
    throw invalidArgument('model', 'a model folder path or { text, mmproj } file paths', source);
  }
  if (!(await isDirectory(source))) {
    throw new MoondreamError('ERR_IO', `${source} is not a folder; pass a folder holding the GGUF pair, or { text, mmproj } paths`);
  }
  const entries = await readdir(source);
  const texts = entries.filter((name) => modelFileKind(name) === 'text').sort();
  const mmprojs = entries.filter((name) => modelFileKind(name) === 'mmproj').sort();
  const pick = (found: string[], what: string): string => {
    if (found.length === 1) return join(source, found[0]!);
    const listed = found.length === 0 ? 'none' : found.join(', ');
    throw new MoondreamError('ERR_IO',
      `${source} must hold exactly one ${what} (found ${listed}); pass { text, mmproj } to choose`);
  };
  return { text: pick(texts, modelFilePattern('text')), mmproj: pick(mmprojs, modelFilePattern('mmproj')) };
}
