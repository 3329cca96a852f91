// Inputs for the tokenizer oracle tests: the kinds of strings llama.cpp's GPT-2 vocabulary test
// uses (written out here, not copied from its files), and a seeded generator of strings that
// stress every rule of the CodeGen tokenizer.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Short strings in the style of llama.cpp's tests/test-tokenizer-0 GPT-2 vectors. */
export const LLAMA_CPP_STYLE_STRINGS: readonly string[] = [
  'ied 4 ½ months', 'Äpfel', '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\t\n',
  'Hello world', ' Hello world', 'Hello World', ' Hello World', ' Hello World!', 'Hello, world!',
  ' Hello, world!', ' this is 🦙.cpp', 'w048 7tuijk dsdfhu', 'нещо на Български',
  'កាន់តែពិសេសអាចខលចេញ',
  '🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)',
  'Hello', ' Hello', '  Hello', '   Hello', '    Hello', '    Hello\n    Hello', ' (', '\n =', "' era",
  "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～", '!!!!!!',
  '3', '33', '333', '3333', '33333', '333333', '3333333', '33333333', '333333333',
  'Cửa Việt', ' discards',
  '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ ' +
    '🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ ' +
    '------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, ' +
    '\'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL',
];

/** mulberry32: small, fast, and the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'the', 'The', 'moon', 'dream', 'Hello', 'world', 'tokenizer', 'GPT', 'a', 'I', 'x', 'naïve', 'café',
  'Straße', 'ÆSIR', 'résumé', 'über', 'hello_world', 'camelCase', 'HTTPServer', 'don', 'isn',
];
const SCRIPTS = [
  '世界', '我想在apple工作', '漢字かなカナ', '한국어', 'Привет', 'Ελληνικά', 'עברית', 'العربية',
  'हिन्दी', 'ภาษาไทย', 'កាន់តែពិសេស', 'Cửa Việt', 'e\u0301', 'n\u0303o', 'ﬁ', 'Ⅻ', '①②', '٣٤٥',
];
const EMOJI = [
  '😀', '🦙', '🚀', '✅', '😶\u200d🌫️', '👩\u200d👩\u200d👧\u200d👦', '👍🏽', '🇫🇷', '❤️', '🏳️\u200d🌈', '1️⃣', '🫠',
];
const PUNCTUATION = '!@#$%^&*()-_=+[]{};:\'",.<>/?\\|`~';
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'RE", "'Ve", "'x", "'"];
// Whitespace other than runs of spaces and tabs. U+0085 and U+FEFF are left out on purpose: the
// JavaScript oracle's \s disagrees with HF's Rust tokenizer on exactly those two (the unit tests
// pin our Rust-compatible behaviour on them).
const OTHER_SPACE = ['\n', '\r\n', '\r', '\n\n', '\u000b', '\u000c', '\u00a0', '\u3000', '\u2028', '\u2003', '\u202f'];
const CONTROL = ['\0', '\u0001', '\u001b', '\u007f', '\u200b', '\u00ad', '\u001f'];

function codeCorpus(): string[] {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const files: string[] = [];
  for (const dir of ['native/src', 'native/addon', 'src', 'scripts']) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (/\.(cpp|h|ts|mjs)$/.test(name) && !name.startsWith('unicode_class_table')) files.push(join(root, dir, name));
    }
  }
  return files.map((file) => readFileSync(file, 'utf8'));
}

export interface GeneratorOptions {
  /**
   * Only text on which CodeGen and plain GPT-2 agree: no runs of spaces or tabs, no
   * <|endoftext|>, no source code (which is indented). For the js-tiktoken comparison.
   */
  gpt2Only?: boolean;
}

/**
 * `count` strings from a seeded generator: fragments of every kind the tokenizer treats specially,
 * glued together at random, plus chunks of this repository's own source code (every fourth one
 * tab-indented) as long real-world code.
 */
export function generatedStrings(count: number, seed: number, options: GeneratorOptions = {}): string[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const corpus = codeCorpus();

  const kinds = options.gpt2Only ? [0, 4, 5, 6, 7, 8, 9, 10, 12, 13] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const fragment = (): string => {
    switch (pick(kinds)) {
      case 0: return (random() < 0.5 ? ' ' : '') + pick(WORDS);
      case 1: return ' '.repeat(1 + int(40));
      case 2: return '\t'.repeat(1 + int(12));
      case 3: return Array.from({ length: 1 + int(8) }, () => (random() < 0.5 ? ' ' : '\t')).join('');
      case 4: return pick(OTHER_SPACE).repeat(1 + int(3));
      case 5: return pick(CONTRACTIONS);
      case 6: return String(int(10 ** (1 + int(9))));
      case 7: return Array.from({ length: 1 + int(6) }, () => pick([...PUNCTUATION])).join('');
      case 8: return pick(EMOJI);
      case 9: return pick(SCRIPTS);
      case 10: return pick(CONTROL);
      case 11: return random() < 0.7 ? '<|endoftext|>' : pick(['<|endoftext', '<|', '|>', '<|endoftext|', '<|endoftext|><|endoftext|>']);
      case 12: // rare enough that most strings stay well-formed
        if (random() < 0.25) return random() < 0.5 ? '\ud800' : pick(['\udfff', '\ud83d', 'a\udc00b']);
        return String.fromCodePoint(pickCodePoint(int));
      default: return String.fromCodePoint(pickCodePoint(int));
    }
  };

  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 9 && !options.gpt2Only) {
      const source = pick(corpus);
      const start = int(Math.max(1, source.length - 2000));
      let chunk = source.slice(start, start + 200 + int(1800));
      if (i % 40 === 39) chunk = chunk.replace(/^( {4})+/gm, (indent) => '\t'.repeat(indent.length / 4));
      out.push(chunk);
      continue;
    }
    const parts = 1 + int(24);
    let s = '';
    for (let p = 0; p < parts; p++) s += fragment();
    out.push(s);
  }
  return out;
}

// Any Unicode scalar value except the two the oracles disagree on (see OTHER_SPACE), weighted
// towards the planes text actually uses.
function pickCodePoint(int: (n: number) => number): number {
  for (;;) {
    const planeRoll = int(10);
    const cp = planeRoll < 6 ? int(0x800) : planeRoll < 9 ? int(0x10000) : int(0x110000);
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0x85 || cp === 0xfeff) continue;
    return cp;
  }
}

/** True when the string holds no unpaired surrogate, so that it round-trips through UTF-8. */
export function isWellFormed(s: string): boolean {
  return !/\p{Surrogate}/u.test(s);
}
