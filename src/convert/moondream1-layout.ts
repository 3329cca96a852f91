// moondream1's Hugging Face checkpoint layout (spec §5.1): every tensor name with its shape, as a
// function of the model's dimensions. The checkpoint generator writes this table and the converter
// validates checkpoints against it, so the two cannot drift apart.

export interface Moondream1VisionDims {
  /** SigLIP width (1152). */
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly numLayers: number;
  /** SigLIP MLP width (4304). */
  readonly intermediateSize: number;
  /** Width of the projector's hidden layer (8192); its output width is the text model's n_embd. */
  readonly projectionIntermediateSize: number;
  readonly layerNormEps: number;
  readonly imageSize: number;
  readonly patchSize: number;
}

export interface Moondream1TextDims {
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly nInner: number;
  /** Rows of the embedding and the LM head (51200, more than the tokenizer's 50295 ids). */
  readonly vocabSize: number;
  readonly nPositions: number;
  /** Leading dims of each head that get NeoX RoPE (32 of 64). */
  readonly rotaryDim: number;
  readonly layerNormEpsilon: number;
}

export interface Moondream1Dims {
  readonly vision: Moondream1VisionDims;
  readonly text: Moondream1TextDims;
}

/** The real moondream1 (spec §1, §2, §4). */
export const MOONDREAM1_DIMS: Moondream1Dims = Object.freeze({
  vision: Object.freeze({
    hiddenSize: 1152, numHeads: 16, numLayers: 27, intermediateSize: 4304, projectionIntermediateSize: 8192,
    layerNormEps: 1e-6, imageSize: 378, patchSize: 14,
  }),
  text: Object.freeze({
    nEmbd: 2048, nHead: 32, nLayer: 24, nInner: 8192, vocabSize: 51200, nPositions: 2048, rotaryDim: 32,
    layerNormEpsilon: 1e-5,
  }),
});

/**
 * The tiny test model: the same tensors at small widths. Other code depends on these exact values.
 * 80 is deliberately not a multiple of 32 (like 4304); head_dim 64 keeps partial RoPE (32 of 64)
 * meaningful; the image side (378 px, 14 px patches, 729 positions, 588 inputs) is unchanged.
 */
export const MOONDREAM1_TINY_DIMS: Moondream1Dims = Object.freeze({
  vision: Object.freeze({
    hiddenSize: 64, numHeads: 2, numLayers: 2, intermediateSize: 80, projectionIntermediateSize: 256,
    layerNormEps: 1e-6, imageSize: 378, patchSize: 14,
  }),
  text: Object.freeze({
    nEmbd: 128, nHead: 2, nLayer: 2, nInner: 512, vocabSize: 51200, nPositions: 2048, rotaryDim: 32,
    layerNormEpsilon: 1e-5,
  }),
});

export interface Moondream1TensorShape {
  readonly name: string;
  /** PyTorch order: [out, in] for Linear weights. */
  readonly shape: readonly number[];
}

/** Input width of the linear patch embedding: 3 channels x patch x patch (588). */
export function patchInputSize(vision: Moondream1VisionDims): number {
  return 3 * vision.patchSize * vision.patchSize;
}

/** Patches per image side squared (27 x 27 = 729): the rows of pos_embed and of an encoded image. */
export function patchCount(vision: Moondream1VisionDims): number {
  const side = vision.imageSize / vision.patchSize;
  return side * side;
}

export const VISION_PREFIX = 'vision_encoder.encoder.model.visual.';
export const PROJECTION_PREFIX = 'vision_encoder.projection.mlp.';
export const TEXT_PREFIX = 'text_model.';

/**
 * Every tensor of a moondream1 checkpoint with these dims, in module order (vision, projection,
 * text; blocks in numeric order). A safetensors file stores them sorted by name instead.
 */
export function moondream1TensorShapes(dims: Moondream1Dims): Moondream1TensorShape[] {
  const { vision: v, text: t } = dims;
  const out: Moondream1TensorShape[] = [];
  const add = (name: string, ...shape: number[]) => out.push({ name, shape });
  const linear = (name: string, outputs: number, inputs: number) => {
    add(`${name}.weight`, outputs, inputs);
    add(`${name}.bias`, outputs);
  };
  const norm = (name: string, width: number) => {
    add(`${name}.weight`, width);
    add(`${name}.bias`, width);
  };

  linear(`${VISION_PREFIX}patch_embed.linear`, v.hiddenSize, patchInputSize(v));
  add(`${VISION_PREFIX}pos_embed`, 1, patchCount(v), v.hiddenSize);
  for (let i = 0; i < v.numLayers; i++) {
    const block = `${VISION_PREFIX}blocks.${i}`;
    norm(`${block}.norm1`, v.hiddenSize);
    linear(`${block}.attn.qkv`, 3 * v.hiddenSize, v.hiddenSize);
    linear(`${block}.attn.proj`, v.hiddenSize, v.hiddenSize);
    norm(`${block}.norm2`, v.hiddenSize);
    linear(`${block}.mlp.fc1`, v.intermediateSize, v.hiddenSize);
    linear(`${block}.mlp.fc2`, v.hiddenSize, v.intermediateSize);
  }
  norm(`${VISION_PREFIX}norm`, v.hiddenSize);

  linear(`${PROJECTION_PREFIX}fc1`, v.projectionIntermediateSize, v.hiddenSize);
  linear(`${PROJECTION_PREFIX}fc2`, t.nEmbd, v.projectionIntermediateSize);

  add(`${TEXT_PREFIX}transformer.embd.wte.weight`, t.vocabSize, t.nEmbd);
  for (let i = 0; i < t.nLayer; i++) {
    const layer = `${TEXT_PREFIX}transformer.h.${i}`;
    norm(`${layer}.ln`, t.nEmbd);
    linear(`${layer}.mixer.Wqkv`, 3 * t.nEmbd, t.nEmbd);
    linear(`${layer}.mixer.out_proj`, t.nEmbd, t.nEmbd);
    linear(`${layer}.mlp.fc1`, t.nInner, t.nEmbd);
    linear(`${layer}.mlp.fc2`, t.nEmbd, t.nInner);
  }
  norm(`${TEXT_PREFIX}lm_head.ln`, t.nEmbd);
  linear(`${TEXT_PREFIX}lm_head.linear`, t.vocabSize, t.nEmbd);
  return out;
}
