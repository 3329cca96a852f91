// The metadata of the converted pair: llama.cpp's phi2 and clip keys (spec §8.3, notes/llama-cpp
// anchor §3) plus our moondream.* profile.
import { MOONDREAM1_CHAT_TEMPLATE } from './chat-template.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { ENDOFTEXT_ID } from './codegen-vocab.js';
import type { Moondream1Dims } from './moondream1-layout.js';
import { MOONDREAM1_LICENSE, MOONDREAM1_PROMPT, MOONDREAM_KEYS } from './profile.js';
import type { TextType, VisionType } from './quant-types.js';
import { LLAMA_FILE_TYPE } from './quant-types.js';
import type { GgufVocabulary } from './tokenizer-json.js';

const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: 'uint32', value });
const f32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: 'float32', value: Math.fround(value) });
const str = (key: string, value: string): GgufMetadataEntry => ({ key, type: 'string', value });
const bool = (key: string, value: boolean): GgufMetadataEntry => ({ key, type: 'bool', value });

export interface SourceInfo {
  name: string;
  revision: string;
}

function commonKeys(source: SourceInfo): GgufMetadataEntry[] {
  return [
    str(MOONDREAM_KEYS.profile, 'moondream1'),
    str(MOONDREAM_KEYS.license, MOONDREAM1_LICENSE),
    str(MOONDREAM_KEYS.revision, source.revision),
    str('general.license', MOONDREAM1_LICENSE),
  ];
}

export function textMetadata(dims: Moondream1Dims, vocab: GgufVocabulary, type: TextType, source: SourceInfo): GgufMetadataEntry[] {
  const t = dims.text;
  return [
    str('general.architecture', 'phi2'),
    str('general.name', source.name),
    u32('general.file_type', LLAMA_FILE_TYPE[type]),
    u32('general.quantization_version', 2),
    u32('phi2.context_length', t.nPositions),
    u32('phi2.embedding_length', t.nEmbd),
    u32('phi2.feed_forward_length', t.nInner),
    u32('phi2.block_count', t.nLayer),
    u32('phi2.attention.head_count', t.nHead),
    u32('phi2.attention.head_count_kv', t.nHead),
    f32('phi2.attention.layer_norm_epsilon', t.layerNormEpsilon),
    u32('phi2.rope.dimension_count', t.rotaryDim),
    f32('phi2.rope.freq_base', 10000),
    str('tokenizer.ggml.model', 'gpt2'),
    // phi-2 selects llama.cpp's GPT-2 pre-tokenizer regex, which is CodeGen's (spec §8.3).
    str('tokenizer.ggml.pre', 'phi-2'),
    { key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: vocab.tokens },
    { key: 'tokenizer.ggml.token_type', type: 'array', itemType: 'int32', value: vocab.tokenTypes },
    { key: 'tokenizer.ggml.merges', type: 'array', itemType: 'string', value: vocab.merges },
    u32('tokenizer.ggml.bos_token_id', ENDOFTEXT_ID),
    u32('tokenizer.ggml.eos_token_id', ENDOFTEXT_ID),
    u32('tokenizer.ggml.unknown_token_id', ENDOFTEXT_ID),
    bool('tokenizer.ggml.add_bos_token', false),
    bool('tokenizer.ggml.add_eos_token', false),
    str('tokenizer.chat_template', MOONDREAM1_CHAT_TEMPLATE),
    ...commonKeys(source),
    str(MOONDREAM_KEYS.promptTemplate, MOONDREAM1_PROMPT.template),
    str(MOONDREAM_KEYS.promptHistoryTurn, MOONDREAM1_PROMPT.historyTurn),
    str(MOONDREAM_KEYS.captionQuestion, MOONDREAM1_PROMPT.captionQuestion),
    u32(MOONDREAM_KEYS.bosTokenId, MOONDREAM1_PROMPT.bosTokenId),
    { key: MOONDREAM_KEYS.stopTokenIds, type: 'array', itemType: 'int32', value: [...MOONDREAM1_PROMPT.stopTokenIds] },
    u32(MOONDREAM_KEYS.maxNewTokens, MOONDREAM1_PROMPT.maxNewTokens),
    { key: MOONDREAM_KEYS.stripSuffixes, type: 'array', itemType: 'string', value: [...MOONDREAM1_PROMPT.stripSuffixes] },
  ];
}

export function visionMetadata(dims: Moondream1Dims, type: VisionType, source: SourceInfo): GgufMetadataEntry[] {
  const v = dims.vision;
  return [
    str('general.architecture', 'clip'),
    str('general.name', `${source.name} vision`),
    u32('general.file_type', type === 'f32' ? 0 : type === 'f16' ? 1 : 7),
    bool('clip.has_text_encoder', false),
    bool('clip.has_vision_encoder', true),
    bool('clip.has_llava_projector', true),
    str('clip.projector_type', 'mlp'),
    u32('clip.vision.image_size', v.imageSize),
    u32('clip.vision.patch_size', v.patchSize),
    u32('clip.vision.embedding_length', v.hiddenSize),
    u32('clip.vision.feed_forward_length', v.intermediateSize),
    u32('clip.vision.projection_dim', dims.text.nEmbd),
    u32('clip.vision.attention.head_count', v.numHeads),
    f32('clip.vision.attention.layer_norm_epsilon', v.layerNormEps),
    u32('clip.vision.block_count', v.numLayers),
    // Run every block, then post_ln: without this llama.cpp's llava graph stops one block early.
    { key: 'clip.vision.feature_layer', type: 'array', itemType: 'int32', value: [v.numLayers] },
    { key: 'clip.vision.image_mean', type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
    { key: 'clip.vision.image_std', type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
    bool('clip.use_gelu', true),
    ...commonKeys(source),
    str(MOONDREAM_KEYS.visionGelu, 'erf'),
    str(MOONDREAM_KEYS.projectorGelu, 'erf'),
    str(MOONDREAM_KEYS.resize, 'stretch'),
  ];
}
