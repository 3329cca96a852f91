// Where every tensor of the GGUF pair comes from in moondream1's HF checkpoint (spec §5.1, §8.3;
// design §3): llama.cpp's phi2 names for the text model, its clip/llava names for the mmproj.
// `shape` is the output's ggml ne order; source shapes are checked against moondream1-layout.ts.
import { PROJECTION_PREFIX, TEXT_PREFIX, VISION_PREFIX, patchCount, type Moondream1Dims } from './moondream1-layout.js';
import type { TensorRole } from './quant-types.js';

export interface TensorSource {
  /** Tensor name in model.safetensors. */
  name: string;
  /** A slice of rows (first PyTorch dimension) out of `rowCount`, for the vision QKV split. */
  rows?: [number, number];
  rowCount?: number;
}

export interface MappedTensor {
  name: string;
  shape: number[];
  role: TensorRole;
  source: TensorSource;
}

const TEXT = TEXT_PREFIX;
const VISION = VISION_PREFIX;
const PROJECTION = PROJECTION_PREFIX;

/** A linear layer: weight [out, in] -> ne [in, out], bias [out]. */
function linear(gguf: string, hf: string, inputs: number, outputs: number, role: TensorRole = 'matrix'): MappedTensor[] {
  return [
    { name: `${gguf}.weight`, shape: [inputs, outputs], role, source: { name: `${hf}.weight` } },
    { name: `${gguf}.bias`, shape: [outputs], role: 'vector', source: { name: `${hf}.bias` } },
  ];
}

function layerNorm(gguf: string, hf: string, width: number): MappedTensor[] {
  return [
    { name: `${gguf}.weight`, shape: [width], role: 'vector', source: { name: `${hf}.weight` } },
    { name: `${gguf}.bias`, shape: [width], role: 'vector', source: { name: `${hf}.bias` } },
  ];
}

export function textTensorMap(dims: Moondream1Dims): MappedTensor[] {
  const { nEmbd: e, nInner: f, vocabSize: v, nLayer: layers } = dims.text;
  const out: MappedTensor[] = [{
    name: 'token_embd.weight', shape: [e, v], role: 'matrix', source: { name: `${TEXT}transformer.embd.wte.weight` },
  }];
  for (let i = 0; i < layers; i++) {
    const hf = `${TEXT}transformer.h.${i}`;
    out.push(
      ...layerNorm(`blk.${i}.attn_norm`, `${hf}.ln`, e),
      ...linear(`blk.${i}.attn_qkv`, `${hf}.mixer.Wqkv`, e, 3 * e),
      ...linear(`blk.${i}.attn_output`, `${hf}.mixer.out_proj`, e, e),
      ...linear(`blk.${i}.ffn_up`, `${hf}.mlp.fc1`, e, f),
      ...linear(`blk.${i}.ffn_down`, `${hf}.mlp.fc2`, f, e),
    );
  }
  out.push(...layerNorm('output_norm', `${TEXT}lm_head.ln`, e), ...linear('output', `${TEXT}lm_head.linear`, e, v, 'output'));
  return out;
}

export function visionTensorMap(dims: Moondream1Dims): MappedTensor[] {
  const { hiddenSize: h, intermediateSize: f, numLayers: blocks, projectionIntermediateSize: p, patchSize } = dims.vision;
  const textWidth = dims.text.nEmbd;
  const positions = patchCount(dims.vision);
  const out: MappedTensor[] = [
    // The linear patch embedding's 588 inputs are (channel, row, column), exactly a conv kernel's
    // layout, so the same bytes serve as ggml's [14, 14, 3, H] conv weight (spec §1).
    { name: 'v.patch_embd.weight', shape: [patchSize, patchSize, 3, h], role: 'keep-float',
      source: { name: `${VISION}patch_embed.linear.weight` } },
    { name: 'v.patch_embd.bias', shape: [h], role: 'vector', source: { name: `${VISION}patch_embed.linear.bias` } },
    { name: 'v.position_embd.weight', shape: [h, positions], role: 'keep-float', source: { name: `${VISION}pos_embed` } },
  ];
  for (let i = 0; i < blocks; i++) {
    const hf = `${VISION}blocks.${i}`;
    out.push(...layerNorm(`v.blk.${i}.ln1`, `${hf}.norm1`, h));
    // timm's fused qkv: rows [0, H) are Q, [H, 2H) K, [2H, 3H) V. llama.cpp's clip graph wants them apart.
    (['q', 'k', 'v'] as const).forEach((part, j) => {
      const rows: [number, number] = [j * h, (j + 1) * h];
      out.push(
        { name: `v.blk.${i}.attn_${part}.weight`, shape: [h, h], role: 'matrix',
          source: { name: `${hf}.attn.qkv.weight`, rows, rowCount: 3 * h } },
        { name: `v.blk.${i}.attn_${part}.bias`, shape: [h], role: 'vector',
          source: { name: `${hf}.attn.qkv.bias`, rows, rowCount: 3 * h } },
      );
    });
    out.push(
      ...linear(`v.blk.${i}.attn_out`, `${hf}.attn.proj`, h, h),
      ...layerNorm(`v.blk.${i}.ln2`, `${hf}.norm2`, h),
      ...linear(`v.blk.${i}.ffn_up`, `${hf}.mlp.fc1`, h, f),
      ...linear(`v.blk.${i}.ffn_down`, `${hf}.mlp.fc2`, f, h),
    );
  }
  out.push(
    ...layerNorm('v.post_ln', `${VISION}norm`, h),
    ...linear('mm.0', `${PROJECTION}fc1`, h, p),
    ...linear('mm.2', `${PROJECTION}fc2`, p, textWidth),
  );
  return out;
}
