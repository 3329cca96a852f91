// moondream1's dimensions, read from config.json. The real moondream1 config names only the
// model type (spec §5.4), so every field defaults to the real model's value; generated test
// checkpoints spell out their smaller dimensions with the same field names.
import { MoondreamError } from '../errors.js';

export interface Moondream1Dims {
  text: {
    embedding: number;     // n_embd
    heads: number;         // n_head
    layers: number;        // n_layer
    feedForward: number;   // n_inner
    vocabRows: number;     // vocab_size (embedding rows)
    contextLength: number; // n_positions
    rotaryDims: number;    // rotary_dim
    layerNormEps: number;
  };
  vision: {
    embedding: number;
    heads: number;
    blocks: number;
    feedForward: number;
    projectionInner: number;
    layerNormEps: number;
    imageSize: number;
    patchSize: number;
  };
}

export const MOONDREAM1_REAL_DIMS: Moondream1Dims = {
  text: { embedding: 2048, heads: 32, layers: 24, feedForward: 8192, vocabRows: 51200, contextLength: 2048, rotaryDims: 32, layerNormEps: 1e-5 },
  vision: { embedding: 1152, heads: 16, blocks: 27, feedForward: 4304, projectionInner: 8192, layerNormEps: 1e-6, imageSize: 378, patchSize: 14 },
};

function field(source: Record<string, unknown> | undefined, key: string, fallback: number, integer = true): number {
  const value = source?.[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: ${key} must be a positive ${integer ? 'integer' : 'number'}, found ${JSON.stringify(value)}`);
  }
  return value;
}

function object(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Dimensions from a parsed config.json; absent fields take moondream1's real values. */
export function dimsFromConfig(config: unknown): Moondream1Dims {
  const root = object(config);
  if (!root) throw new MoondreamError('ERR_MODEL_FORMAT', 'config.json is not a JSON object');
  if (root.model_type !== undefined && root.model_type !== 'moondream1') {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: model_type is ${JSON.stringify(root.model_type)}, expected "moondream1"`);
  }
  const phi = object(root.phi_config);
  const vision = object(root.vision_config);
  const real = MOONDREAM1_REAL_DIMS;
  const embedding = field(phi, 'n_embd', real.text.embedding);
  const dims: Moondream1Dims = {
    text: {
      embedding,
      heads: field(phi, 'n_head', real.text.heads),
      layers: field(phi, 'n_layer', real.text.layers),
      feedForward: field(phi, 'n_inner', 4 * embedding),
      vocabRows: field(phi, 'vocab_size', real.text.vocabRows),
      contextLength: field(phi, 'n_positions', real.text.contextLength),
      rotaryDims: field(phi, 'rotary_dim', real.text.rotaryDims),
      layerNormEps: field(phi, 'layer_norm_epsilon', real.text.layerNormEps, false),
    },
    vision: {
      embedding: field(vision, 'hidden_size', real.vision.embedding),
      heads: field(vision, 'num_attention_heads', real.vision.heads),
      blocks: field(vision, 'num_hidden_layers', real.vision.blocks),
      feedForward: field(vision, 'intermediate_size', real.vision.feedForward),
      projectionInner: field(vision, 'projection_intermediate_size', real.vision.projectionInner),
      layerNormEps: field(vision, 'layer_norm_eps', real.vision.layerNormEps, false),
      imageSize: field(vision, 'image_size', real.vision.imageSize),
      patchSize: field(vision, 'patch_size', real.vision.patchSize),
    },
  };
  const headDim = dims.text.embedding / dims.text.heads;
  if (!Number.isInteger(headDim)) throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: n_embd ${embedding} is not divisible by n_head ${dims.text.heads}`);
  dims.text.rotaryDims = Math.min(dims.text.rotaryDims, headDim);  // phi-msft clamps it the same way
  if (!Number.isInteger(dims.vision.embedding / dims.vision.heads)) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: vision hidden_size ${dims.vision.embedding} is not divisible by ${dims.vision.heads} heads`);
  }
  if (dims.vision.imageSize % dims.vision.patchSize !== 0) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: image_size ${dims.vision.imageSize} is not a multiple of patch_size ${dims.vision.patchSize}`);
  }
  return dims;
}
