// The CodeGen / Phi-1.5 tokenizer that moondream1 uses: GPT-2's byte-level BPE (50,257 tokens,
// 50,000 merges) plus 38 added whitespace tokens, in a 51,200-row embedding.
// Facts: shared/spec/moondream1.md §6, shared/spec/tokenizer-and-preprocessing.md §1.

export const ENDOFTEXT_ID = 50256;
export const ENDOFTEXT = '<|endoftext|>';
/** Rows of moondream1's (Phi-1.5's) embedding and lm_head. */
export const MOONDREAM1_VOCAB_ROWS = 51200;

/** llama.cpp's token types (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

/**
 * CodeGen's added whitespace tokens: ids 50257..50286 are runs of 31 down to 2 spaces,
 * 50287..50294 runs of 9 down to 2 tabs. They are split out of the text before BPE.
 */
export const CODEGEN_WHITESPACE_TOKENS: readonly AddedToken[] = [
  ...Array.from({ length: 30 }, (_, i) => ({ id: 50257 + i, content: ' '.repeat(31 - i), special: false })),
  ...Array.from({ length: 8 }, (_, i) => ({ id: 50287 + i, content: '\t'.repeat(9 - i), special: false })),
];

/** The token text llama.cpp-style GGUFs use for embedding rows no tokenizer entry maps to. */
export function fillerToken(id: number): string {
  return `[PAD${id}]`;
}
