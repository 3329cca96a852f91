// Where every tensor of the GGUF pair comes from in moondream1's HF checkpoint (spec §5.1, §8.3;
// design §3): llama.cpp's phi2 names for the text model, its clip/llava names for the mmproj, both
// from the names table (src/gguf/names.ts). `shape` is the output's ggml ne order; source shapes
// are checked against moondream1-layout.ts.
import { TENSOR_SUFFIXES, TEXT_TENSORS, VISION_TENSORS, layerName } from '../gguf/names.js';
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

const WEIGHT = TENSOR_SUFFIXES.weight;
const BIAS = TENSOR_SUFFIXES.bias;

/** A linear layer: weight [out, in] -> ne [in, out], bias [out]. */
function linear(gguf: string, hf: string, inputs: number, outputs: number, role: TensorRole = 'matrix'): MappedTensor[] {
  return [
    { name: gguf + WEIGHT, shape: [inputs, outputs], role, source: { name: `${hf}.weight` } },
    { name: gguf + BIAS, shape: [outputs], role: 'vector', source: { name: `${hf}.bias` } },
  ];
}

function layerNorm(gguf: string, hf: string, width: number): MappedTensor[] {
  return [
    { name: gguf + WEIGHT, shape: [width], role: 'vector', source: { name: `${hf}.weight` } },
    { name: gguf + BIAS, shape: [width], role: 'vector', source: { name: `${hf}.bias` } },
  ];
}

export function textTensorMap(dims: Moondream1Dims): MappedTensor[] {
  const { nEmbd: e, nInner: f, vocabSize: v, nLayer: layers } = dims.text;
  const T = TEXT_TENSORS;
  const out: MappedTensor[] = [{
    name: T.tokenEmbd + WEIGHT, shape: [e, v], role: 'matrix', source: { name: `${TEXT}transformer.embd.wte.weight` },
  }];
  for (let i = 0; i < layers; i++) {
    const hf = `${TEXT}transformer.h.${i}`;
    out.push(
      ...layerNorm(layerName(T.attnNorm, i), `${hf}.ln`, e),
      ...linear(layerName(T.attnQkv, i), `${hf}.mixer.Wqkv`, e, 3 * e),
      ...linear(layerName(T.attnOutput, i), `${hf}.mixer.out_proj`, e, e),
      ...linear(layerName(T.ffnUp, i), `${hf}.mlp.fc1`, e, f),
      ...linear(layerName(T.ffnDown, i), `${hf}.mlp.fc2`, f, e),
    );
  }
  out.push(...layerNorm(T.outputNorm, `${TEXT}lm_head.ln`, e), ...linear(T.output, `${TEXT}lm_head.linear`, e, v, 'output'));
  return out;
}

export function visionTensorMap(dims: Moondream1Dims): MappedTensor[] {
  const { hiddenSize: h, intermediateSize: f, numLayers: blocks, projectionIntermediateSize: p, patchSize } = dims.vision;
  const textWidth = dims.text.nEmbd;
  const positions = patchCount(dims.vision);
  const V = VISION_TENSORS;
  const out: MappedTensor[] = [
    // The linear patch embedding's 588 inputs are (channel, row, column), exactly a conv kernel's
    // layout, so the same bytes serve as ggml's [14, 14, 3, H] conv weight (spec §1).
    { name: V.patchEmbd + WEIGHT, shape: [patchSize, patchSize, 3, h], role: 'keep-float',
      source: { name: `${VISION}patch_embed.linear.weight` } },
    { name: V.patchEmbd + BIAS, shape: [h], role: 'vector', source: { name: `${VISION}patch_embed.linear.bias` } },
    { name: V.positionEmbd + WEIGHT, shape: [h, positions], role: 'keep-float', source: { name: `${VISION}pos_embed` } },
  ];
  for (let i = 0; i < blocks; i++) {
    const hf = `${VISION}blocks.${i}`;
    out.push(...layerNorm(layerName(V.ln1, i), `${hf}.norm1`, h));
    // timm's fused qkv: rows [0, H) are Q, [H, 2H) K, [2H, 3H) V. llama.cpp's clip graph wants them apart.
    [V.attnQ, V.attnK, V.attnV].forEach((part, j) => {
      const rows: [number, number] = [j * h, (j + 1) * h];
      const gguf = layerName(part, i);
      out.push(
        { name: gguf + WEIGHT, shape: [h, h], role: 'matrix',
          source: { name: `${hf}.attn.qkv.weight`, rows, rowCount: 3 * h } },
        { name: gguf + BIAS, shape: [h], role: 'vector',
          source: { name: `${hf}.attn.qkv.bias`, rows, rowCount: 3 * h } },
      );
    });
    out.push(
      ...linear(layerName(V.attnOut, i), `${hf}.attn.proj`, h, h),
      ...layerNorm(layerName(V.ln2, i), `${hf}.norm2`, h),
      ...linear(layerName(V.ffnUp, i), `${hf}.mlp.fc1`, h, f),
      ...linear(layerName(V.ffnDown, i), `${hf}.mlp.fc2`, f, h),
    );
  }
  out.push(
    ...layerNorm(V.postLn, `${VISION}norm`, h),
    ...linear(V.mm0, `${PROJECTION}fc1`, h, p),
    ...linear(V.mm2, `${PROJECTION}fc2`, p, textWidth),
  );
  return out;
}
