// Seed files for scripts/fuzz-gguf.sh: small valid GGUFs that exercise metadata of every type,
// tensors, and the phi2 / clip key sets, so the fuzzer starts deep inside the loaders.
import { join } from 'node:path';
import { writeGguf } from '../../src/gguf/writer.js';
import type { GgufMetadataEntry } from '../../src/gguf/types.js';

const out = process.argv[2];
if (!out) throw new Error('usage: fuzz-seeds <dir>');

const tokens = ['a', 'b', 'ab', '<|endoftext|>', 'Ġ', 'Ċ'];
const text: GgufMetadataEntry[] = [
  { key: 'general.architecture', type: 'string', value: 'phi2' },
  { key: 'phi2.context_length', type: 'uint32', value: 64 },
  { key: 'phi2.embedding_length', type: 'uint32', value: 32 },
  { key: 'phi2.feed_forward_length', type: 'uint32', value: 64 },
  { key: 'phi2.block_count', type: 'uint32', value: 1 },
  { key: 'phi2.attention.head_count', type: 'uint32', value: 2 },
  { key: 'phi2.attention.layer_norm_epsilon', type: 'float32', value: 1e-5 },
  { key: 'phi2.rope.dimension_count', type: 'uint32', value: 8 },
  { key: 'tokenizer.ggml.model', type: 'string', value: 'gpt2' },
  { key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: tokens },
  { key: 'tokenizer.ggml.token_type', type: 'array', itemType: 'int32', value: [1, 1, 1, 3, 1, 1] },
  { key: 'tokenizer.ggml.merges', type: 'array', itemType: 'string', value: ['a b'] },
  { key: 'tokenizer.ggml.bos_token_id', type: 'uint32', value: 3 },
  { key: 'tokenizer.ggml.eos_token_id', type: 'uint32', value: 3 },
];
const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(0.5).buffer);
const tensors = [
  { name: 'token_embd.weight', type: 'f32' as const, shape: [32, 6], data: f32(32 * 6) },
  { name: 'blk.0.attn_norm.weight', type: 'f32' as const, shape: [32], data: f32(32) },
  { name: 'output.bias', type: 'f32' as const, shape: [6], data: f32(6) },
];
await writeGguf(join(out, 'text.gguf'), text, tensors);
await writeGguf(join(out, 'clip.gguf'), [
  { key: 'general.architecture', type: 'string', value: 'clip' },
  { key: 'clip.projector_type', type: 'string', value: 'mlp' },
  { key: 'clip.vision.image_size', type: 'uint32', value: 28 },
  { key: 'clip.vision.patch_size', type: 'uint32', value: 14 },
  { key: 'clip.vision.embedding_length', type: 'uint32', value: 8 },
  { key: 'clip.vision.feed_forward_length', type: 'uint32', value: 16 },
  { key: 'clip.vision.attention.head_count', type: 'uint32', value: 2 },
  { key: 'clip.vision.attention.layer_norm_epsilon', type: 'float32', value: 1e-6 },
  { key: 'clip.vision.block_count', type: 'uint32', value: 1 },
  { key: 'clip.vision.feature_layer', type: 'array', itemType: 'int32', value: [1] },
  { key: 'clip.vision.image_mean', type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
  { key: 'clip.vision.image_std', type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
], [{ name: 'v.post_ln.weight', type: 'f32', shape: [8], data: f32(8) }]);
await writeGguf(join(out, 'empty.gguf'), [], []);
console.log(`fuzz seeds written to ${out}`);
