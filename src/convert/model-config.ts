// moondream1's dimensions, read from config.json. The real moondream1 config names only the
// model type (spec §5.4), so every field defaults to the real model's value; generated test
// checkpoints spell out their smaller dimensions with the same field names.
import { MoondreamError } from '../errors.js';
import { MOONDREAM1_DIMS, type Moondream1Dims } from './moondream1-layout.js';

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
  const real = MOONDREAM1_DIMS;
  const nEmbd = field(phi, 'n_embd', real.text.nEmbd);
  const nHead = field(phi, 'n_head', real.text.nHead);
  if (nEmbd % nHead !== 0) throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
  const dims: Moondream1Dims = {
    text: {
      nEmbd,
      nHead,
      nLayer: field(phi, 'n_layer', real.text.nLayer),
      nInner: field(phi, 'n_inner', 4 * nEmbd),
      vocabSize: field(phi, 'vocab_size', real.text.vocabSize),
      nPositions: field(phi, 'n_positions', real.text.nPositions),
      // phi-msft clamps the rotary width to the head width the same way.
      rotaryDim: Math.min(field(phi, 'rotary_dim', real.text.rotaryDim), nEmbd / nHead),
      layerNormEpsilon: field(phi, 'layer_norm_epsilon', real.text.layerNormEpsilon, false),
    },
    vision: {
      hiddenSize: field(vision, 'hidden_size', real.vision.hiddenSize),
      numHeads: field(vision, 'num_attention_heads', real.vision.numHeads),
      numLayers: field(vision, 'num_hidden_layers', real.vision.numLayers),
      intermediateSize: field(vision, 'intermediate_size', real.vision.intermediateSize),
      projectionIntermediateSize: field(vision, 'projection_intermediate_size', real.vision.projectionIntermediateSize),
      layerNormEps: field(vision, 'layer_norm_eps', real.vision.layerNormEps, false),
      imageSize: field(vision, 'image_size', real.vision.imageSize),
      patchSize: field(vision, 'patch_size', real.vision.patchSize),
    },
  };
  if (dims.vision.hiddenSize % dims.vision.numHeads !== 0) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: vision hidden_size ${dims.vision.hiddenSize} is not divisible by ${dims.vision.numHeads} heads`);
  }
  if (dims.vision.imageSize % dims.vision.patchSize !== 0) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `config.json: image_size ${dims.vision.imageSize} is not a multiple of patch_size ${dims.vision.patchSize}`);
  }
  return dims;
}
