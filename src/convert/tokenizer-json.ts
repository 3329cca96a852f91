// HF tokenizer.json (CodeGenTokenizerFast form): building one (for generated checkpoints and the
// test oracle) and reading one into the id-ordered tables a GGUF vocabulary needs.
import { MoondreamError } from '../errors.js';
import {
  CODEGEN_WHITESPACE_TOKENS, ENDOFTEXT, ENDOFTEXT_ID, TOKEN_TYPE, fillerToken, type AddedToken,
} from './codegen-vocab.js';

export interface TokenizerJson {
  version: string;
  added_tokens: {
    id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean;
    normalized: boolean; special: boolean;
  }[];
  normalizer: null;
  pre_tokenizer: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  post_processor: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  decoder: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  model: {
    type: 'BPE'; dropout: null; unk_token: null; continuing_subword_prefix: string; end_of_word_suffix: string;
    fuse_unk: boolean; byte_fallback?: boolean; vocab: Record<string, number>; merges: (string | [string, string])[];
  };
  [extra: string]: unknown;
}

/**
 * A CodeGen tokenizer.json from GPT-2's `encoder.json` (token -> id) and `vocab.bpe` merges,
 * with <|endoftext|> special and the 38 whitespace runs as added, non-special tokens.
 */
export function buildCodegenTokenizerJson(encoder: Record<string, number>, merges: readonly string[]): TokenizerJson {
  const added: AddedToken[] = [{ id: ENDOFTEXT_ID, content: ENDOFTEXT, special: true }, ...CODEGEN_WHITESPACE_TOKENS];
  const byteLevel = { type: 'ByteLevel' as const, add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map((t) => ({
      id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false,
      normalized: !t.special, special: t.special,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab: { ...encoder }, merges: [...merges],
    },
  };
}

/** What a GGUF vocabulary needs, in id order over every embedding row. */
export interface GgufVocabulary {
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
  /** How many rows are real tokenizer entries (the rest are fillers). */
  tokenizerSize: number;
}

function fail(message: string): never {
  throw new MoondreamError('ERR_MODEL_FORMAT', `tokenizer.json: ${message}`);
}

/**
 * Reads a tokenizer.json (BPE model, merges as "a b" strings or [a, b] pairs, added tokens) into
 * tables of `rows` entries, ids the tokenizer never produces filled with [PAD{id}].
 */
export function vocabularyFromTokenizerJson(json: unknown, rows: number): GgufVocabulary {
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const { model, added_tokens: addedTokens } = json as Partial<TokenizerJson>;
  if (!model || model.type !== 'BPE') fail(`expected a BPE model, found ${JSON.stringify(model?.type)}`);
  if (typeof model.vocab !== 'object' || model.vocab === null) fail('model.vocab is missing');
  if (!Array.isArray(model.merges)) fail('model.merges is missing');

  const tokens: (string | undefined)[] = new Array<string | undefined>(rows).fill(undefined);
  const tokenTypes: number[] = new Array<number>(rows).fill(TOKEN_TYPE.unused);
  const place = (content: string, id: unknown, type: number) => {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= rows) {
      fail(`token ${JSON.stringify(content)} has id ${String(id)}, outside the model's ${rows} embedding rows`);
    }
    const at = id as number;
    if (tokens[at] !== undefined && tokens[at] !== content) {
      fail(`id ${at} is used by both ${JSON.stringify(tokens[at])} and ${JSON.stringify(content)}`);
    }
    tokens[at] = content;
    tokenTypes[at] = type;
  };
  for (const [content, id] of Object.entries(model.vocab)) place(content, id, TOKEN_TYPE.normal);
  for (const added of addedTokens ?? []) {
    if (typeof added?.content !== 'string') fail('an added token has no content');
    place(added.content, added.id, added.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined);
  }
  const tokenizerSize = tokens.filter((t) => t !== undefined).length;

  const merges = model.merges.map((merge, i) => {
    if (typeof merge === 'string' && merge.split(' ').length === 2) return merge;
    if (Array.isArray(merge) && merge.length === 2 && merge.every((p) => typeof p === 'string')) return `${merge[0]} ${merge[1]}`;
    return fail(`merge ${i} is neither "a b" nor ["a", "b"]`);
  });

  return {
    tokens: tokens.map((t, id) => t ?? fillerToken(id)),
    tokenTypes,
    merges,
    tokenizerSize,
  };
}
