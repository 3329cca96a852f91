// moondream1's Hugging Face tensor table transcribed from the spec (/work/shared/spec/moondream1.md
// §5.1) as rows of (name pattern, shape formula over config.json values), written separately from
// src/convert/moondream1-layout.ts so that a test can hold the checkpoint generator (which writes
// that module's table) against the spec rather than against itself. `{i}` is a block index.

/** The config.json values the shapes depend on (phi_config and vision_config keys). */
export interface SpecConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  projection_intermediate_size: number;
  image_size: number;
  patch_size: number;
  n_embd: number;
  n_inner: number;
  n_layer: number;
  vocab_size: number;
}

type Row = readonly [pattern: string, shape: (c: SpecConfig) => number[]];

const patches = (c: SpecConfig) => (c.image_size / c.patch_size) ** 2;

// spec §5.1, vision encoder (prefix vision_encoder.encoder.model.visual.)
const VISION: readonly Row[] = [
  ['patch_embed.linear.weight', (c) => [c.hidden_size, 3 * c.patch_size * c.patch_size]],
  ['patch_embed.linear.bias', (c) => [c.hidden_size]],
  ['pos_embed', (c) => [1, patches(c), c.hidden_size]],
  ['blocks.{i}.norm1.weight', (c) => [c.hidden_size]],
  ['blocks.{i}.norm1.bias', (c) => [c.hidden_size]],
  ['blocks.{i}.attn.qkv.weight', (c) => [3 * c.hidden_size, c.hidden_size]],
  ['blocks.{i}.attn.qkv.bias', (c) => [3 * c.hidden_size]],
  ['blocks.{i}.attn.proj.weight', (c) => [c.hidden_size, c.hidden_size]],
  ['blocks.{i}.attn.proj.bias', (c) => [c.hidden_size]],
  ['blocks.{i}.norm2.weight', (c) => [c.hidden_size]],
  ['blocks.{i}.norm2.bias', (c) => [c.hidden_size]],
  ['blocks.{i}.mlp.fc1.weight', (c) => [c.intermediate_size, c.hidden_size]],
  ['blocks.{i}.mlp.fc1.bias', (c) => [c.intermediate_size]],
  ['blocks.{i}.mlp.fc2.weight', (c) => [c.hidden_size, c.intermediate_size]],
  ['blocks.{i}.mlp.fc2.bias', (c) => [c.hidden_size]],
  ['norm.weight', (c) => [c.hidden_size]],
  ['norm.bias', (c) => [c.hidden_size]],
];

// spec §5.1, projection (prefix vision_encoder.projection.mlp.)
const PROJECTION: readonly Row[] = [
  ['fc1.weight', (c) => [c.projection_intermediate_size, c.hidden_size]],
  ['fc1.bias', (c) => [c.projection_intermediate_size]],
  ['fc2.weight', (c) => [c.n_embd, c.projection_intermediate_size]],
  ['fc2.bias', (c) => [c.n_embd]],
];

// spec §5.1, text (prefix text_model.)
const TEXT: readonly Row[] = [
  ['transformer.embd.wte.weight', (c) => [c.vocab_size, c.n_embd]],
  ['transformer.h.{i}.ln.weight', (c) => [c.n_embd]],
  ['transformer.h.{i}.ln.bias', (c) => [c.n_embd]],
  ['transformer.h.{i}.mixer.Wqkv.weight', (c) => [3 * c.n_embd, c.n_embd]],
  ['transformer.h.{i}.mixer.Wqkv.bias', (c) => [3 * c.n_embd]],
  ['transformer.h.{i}.mixer.out_proj.weight', (c) => [c.n_embd, c.n_embd]],
  ['transformer.h.{i}.mixer.out_proj.bias', (c) => [c.n_embd]],
  ['transformer.h.{i}.mlp.fc1.weight', (c) => [c.n_inner, c.n_embd]],
  ['transformer.h.{i}.mlp.fc1.bias', (c) => [c.n_inner]],
  ['transformer.h.{i}.mlp.fc2.weight', (c) => [c.n_embd, c.n_inner]],
  ['transformer.h.{i}.mlp.fc2.bias', (c) => [c.n_embd]],
  ['lm_head.ln.weight', (c) => [c.n_embd]],
  ['lm_head.ln.bias', (c) => [c.n_embd]],
  ['lm_head.linear.weight', (c) => [c.vocab_size, c.n_embd]],
  ['lm_head.linear.bias', (c) => [c.vocab_size]],
];

function expand(prefix: string, rows: readonly Row[], blocks: number, c: SpecConfig, out: Map<string, number[]>): void {
  for (const [pattern, shape] of rows) {
    const indices = pattern.includes('{i}') ? Array.from({ length: blocks }, (_, i) => i) : [undefined];
    for (const i of indices) out.set(prefix + pattern.replace('{i}', String(i)), shape(c));
  }
}

/** Every tensor name of a moondream1 checkpoint with this config, and its shape (PyTorch order). */
export function specTensorShapes(c: SpecConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  expand('vision_encoder.encoder.model.visual.', VISION, c.num_hidden_layers, c, out);
  expand('vision_encoder.projection.mlp.', PROJECTION, 0, c, out);
  expand('text_model.', TEXT, c.n_layer, c, out);
  return out;
}

/** The real moondream1's values (spec §1, §2, §4), for checking this table against spec §5.2. */
export const SPEC_REAL_CONFIG: SpecConfig = {
  hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, projection_intermediate_size: 8192,
  image_size: 378, patch_size: 14, n_embd: 2048, n_inner: 8192, n_layer: 24, vocab_size: 51200,
};
