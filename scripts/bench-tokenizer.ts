// Tokenizer throughput on 1 MB of mixed text (code, prose, CJK, emoji, whitespace runs).
//   npx tsc -p . && node dist/scripts/bench-tokenizer.js [vocab.gguf] [--mb N] [--oracle]
// Without a GGUF it writes moondream1's CodeGen vocabulary to a temporary file first.
// --oracle also times @huggingface/tokenizers (JavaScript) on the same text, for scale.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '../src/index.js';
import { writeVocabGguf } from '../test/helpers/vocab-gguf.js';
import { codegenTokenizerJson } from './lib/gpt2-files.js';

const args = process.argv.slice(2);
const mbIndex = args.indexOf('--mb');
const megabytes = mbIndex >= 0 ? Number(args[mbIndex + 1]) : 1;
const withOracle = args.includes('--oracle');
const ggufArg = args.find((a, i) => !a.startsWith('--') && (mbIndex < 0 || i !== mbIndex + 1));

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Deterministic mixed text: this repository's sources interleaved with prose and other scripts. */
function mixedText(bytes: number): string {
  const sources: string[] = [];
  for (const dir of ['native/src', 'native/addon', 'src', 'scripts']) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (/\.(cpp|h|ts|mjs)$/.test(name) && !name.startsWith('unicode_class_table')) {
        sources.push(readFileSync(join(root, dir, name), 'utf8'));
      }
    }
  }
  const prose = [
    'The quick brown fox jumps over the lazy dog. ', "It's a moondream: we've seen 1,234 images, haven't we? ",
    '我想在apple工作1314151天～ 生活的真谛是什么？ ', 'Привет, как дела? Ελληνικά κείμενα. ', '😶‍🌫️ 👩‍👩‍👧‍👦 🚀✅ ',
    '\n\n    indented\tand\t\ttabbed\n', '<|endoftext|>', 'Question: What is the title of this book?\n\nAnswer: ',
  ];
  let out = '';
  let i = 0;
  while (Buffer.byteLength(out) < bytes) {
    out += sources[i % sources.length]!.slice(0, 4000);
    for (let k = 0; k < 20; k++) out += prose[(i * 7 + k) % prose.length];
    i += 1;
  }
  return out;
}

function time<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e6];
}

const text = mixedText(megabytes * 1024 * 1024);
const size = Buffer.byteLength(text);
const mb = size / (1024 * 1024);

let path = ggufArg;
let cleanup: string | undefined;
if (!path) {
  cleanup = mkdtempSync(join(tmpdir(), 'bench-tokenizer-'));
  path = join(cleanup, 'codegen-vocab.gguf');
  await writeVocabGguf(path);
}
try {
  const [loaded, loadMs] = await (async () => {
    const start = process.hrtime.bigint();
    const t = await Tokenizer.fromGguf(path);
    return [t, Number(process.hrtime.bigint() - start) / 1e6] as const;
  })();
  const [ids, coldMs] = time(() => loaded.tokenize(text));
  const [, warmMs] = time(() => loaded.tokenize(text));
  const [decoded, detokMs] = time(() => loaded.detokenize(ids));
  if (decoded !== text) throw new Error('round trip failed');
  console.log(`text: ${size} bytes (${mb.toFixed(2)} MB), ${ids.length} tokens; vocabulary loaded in ${loadMs.toFixed(0)} ms`);
  console.log(`tokenize, empty cache: ${coldMs.toFixed(0)} ms = ${(mb / (coldMs / 1000)).toFixed(1)} MB/s`);
  console.log(`tokenize, warm cache:  ${warmMs.toFixed(0)} ms = ${(mb / (warmMs / 1000)).toFixed(1)} MB/s`);
  console.log(`detokenize:            ${detokMs.toFixed(0)} ms = ${(mb / (detokMs / 1000)).toFixed(1)} MB/s`);
  if (withOracle) {
    const { Tokenizer: HfTokenizer } = await import('@huggingface/tokenizers');
    const hf = new HfTokenizer(codegenTokenizerJson(), {});
    const [hfIds, hfMs] = time((): number[] => hf.encode(text, { add_special_tokens: false }).ids);
    const same = hfIds.length === ids.length && hfIds.every((id: number, i: number) => id === ids[i]);
    console.log(`@huggingface/tokenizers (JS): ${hfMs.toFixed(0)} ms = ${(mb / (hfMs / 1000)).toFixed(1)} MB/s, ids ${same ? 'identical' : 'DIFFER'}`);
  }
  loaded.dispose();
} finally {
  if (cleanup) rmSync(cleanup, { recursive: true, force: true });
}
