// config.json and generation_config.json of a moondream1 checkpoint. The real files are reconstructed
// (spec §5.4): transformers' serialisation (sorted keys, indent 2, trailing newline) of a config whose
// Phi part equals the class defaults, so it names no dimensions. A checkpoint with other dims (the
// tiny test model) states them explicitly; a reader takes absent keys as the real moondream1 values.
import type { Moondream1Dims } from './moondream1-layout.js';

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** transformers' `to_json_string`: keys sorted at every level, indent 2, newline at the end. */
export function transformersJson(value: Json): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const object = value as { readonly [key: string]: Json };
    return Object.fromEntries(Object.keys(object).sort().map((key) => [key, sortKeys(object[key]!)]));
  }
  return value;
}

const TRANSFORMERS_VERSION = '4.36.2';

/**
 * config.json. Without `explicitDims` it is the reconstructed real file (323 bytes); with it,
 * `phi_config` also carries the text dims and a top-level `vision_config` the vision dims.
 */
export function moondream1ConfigJson(dims: Moondream1Dims, options: { explicitDims: boolean }): string {
  const { vision: v, text: t } = dims;
  const phiConfig: Record<string, Json> = { model_type: 'phi-msft' };
  const config: Record<string, Json> = {
    architectures: ['Moondream'],
    auto_map: { AutoConfig: 'configuration_moondream.MoondreamConfig', AutoModelForCausalLM: 'moondream.Moondream' },
    model_type: 'moondream1',
    phi_config: phiConfig,
    torch_dtype: 'float16',
    transformers_version: TRANSFORMERS_VERSION,
  };
  if (options.explicitDims) {
    Object.assign(phiConfig, {
      n_embd: t.nEmbd, n_head: t.nHead, n_layer: t.nLayer, n_inner: t.nInner, vocab_size: t.vocabSize,
      n_positions: t.nPositions, rotary_dim: t.rotaryDim, layer_norm_epsilon: t.layerNormEpsilon,
    });
    config.vision_config = {
      hidden_size: v.hiddenSize, num_attention_heads: v.numHeads, num_hidden_layers: v.numLayers,
      intermediate_size: v.intermediateSize, projection_intermediate_size: v.projectionIntermediateSize,
      layer_norm_eps: v.layerNormEps, image_size: v.imageSize, patch_size: v.patchSize,
    };
  }
  return transformersJson(config);
}

/** generation_config.json: no sampling settings (spec §5.4, 69 bytes). */
export function moondream1GenerationConfigJson(): string {
  return transformersJson({ _from_model_config: true, transformers_version: TRANSFORMERS_VERSION });
}
