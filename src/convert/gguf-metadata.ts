// The metadata of the converted pair: llama.cpp's phi2 and clip keys (spec §8.3, notes/llama-cpp
// anchor §3) plus our moondream.* profile, every key from the names table (src/gguf/names.ts).
import {
  GENERAL_KEYS as G, GGUF_VALUES, PROFILE_KEYS, PROMPT_KEYS, TEXT_KEYS as T, TOKENIZER_KEYS as TOK, VISION_KEYS as V,
  VISION_PROFILE_KEYS,
} from '../gguf/names.js';
import { MOONDREAM1_CHAT_TEMPLATE } from './chat-template.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { ENDOFTEXT_ID } from './codegen-vocab.js';
import type { Moondream1Dims } from './moondream1-layout.js';
import { MOONDREAM1_LICENSE, MOONDREAM1_PROMPT } from './profile.js';
import type { TextType, VisionType } from './quant-types.js';
import { LLAMA_FILE_TYPE, VISION_FILE_TYPE } from './quant-types.js';
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
    str(PROFILE_KEYS.profile, 'moondream1'),
    str(PROFILE_KEYS.license, MOONDREAM1_LICENSE),
    str(PROFILE_KEYS.revision, source.revision),
    str(G.license, MOONDREAM1_LICENSE),
  ];
}

export function textMetadata(dims: Moondream1Dims, vocab: GgufVocabulary, type: TextType, source: SourceInfo): GgufMetadataEntry[] {
  const t = dims.text;
  return [
    str(G.architecture, GGUF_VALUES.textArchitecture),
    str(G.name, source.name),
    u32(G.fileType, LLAMA_FILE_TYPE[type]),
    u32(G.quantizationVersion, 2),
    u32(T.contextLength, t.nPositions),
    u32(T.embeddingLength, t.nEmbd),
    u32(T.feedForwardLength, t.nInner),
    u32(T.blockCount, t.nLayer),
    u32(T.headCount, t.nHead),
    u32(T.headCountKv, t.nHead),
    f32(T.layerNormEpsilon, t.layerNormEpsilon),
    u32(T.ropeDimensionCount, t.rotaryDim),
    f32(T.ropeFreqBase, 10000),
    str(TOK.model, GGUF_VALUES.tokenizerModel),
    // phi-2 selects llama.cpp's GPT-2 pre-tokenizer regex, which is CodeGen's (spec §8.3).
    str(TOK.pre, GGUF_VALUES.preTokenizer),
    { key: TOK.tokens, type: 'array', itemType: 'string', value: vocab.tokens },
    { key: TOK.tokenType, type: 'array', itemType: 'int32', value: vocab.tokenTypes },
    { key: TOK.merges, type: 'array', itemType: 'string', value: vocab.merges },
    u32(TOK.bosTokenId, ENDOFTEXT_ID),
    u32(TOK.eosTokenId, ENDOFTEXT_ID),
    u32(TOK.unknownTokenId, ENDOFTEXT_ID),
    bool(TOK.addBosToken, false),
    bool(TOK.addEosToken, false),
    str(TOK.chatTemplate, MOONDREAM1_CHAT_TEMPLATE),
    ...commonKeys(source),
    str(PROMPT_KEYS.templateText, MOONDREAM1_PROMPT.template),
    str(PROMPT_KEYS.historyTurn, MOONDREAM1_PROMPT.historyTurn),
    str(PROMPT_KEYS.captionQuestion, MOONDREAM1_PROMPT.captionQuestion),
    u32(PROMPT_KEYS.bosTokenId, MOONDREAM1_PROMPT.bosTokenId),
    { key: PROMPT_KEYS.stopTokenIds, type: 'array', itemType: 'int32', value: [...MOONDREAM1_PROMPT.stopTokenIds] },
    u32(PROMPT_KEYS.maxNewTokens, MOONDREAM1_PROMPT.maxNewTokens),
    { key: PROMPT_KEYS.stripSuffixes, type: 'array', itemType: 'string', value: [...MOONDREAM1_PROMPT.stripSuffixes] },
  ];
}

export function visionMetadata(dims: Moondream1Dims, type: VisionType, source: SourceInfo): GgufMetadataEntry[] {
  const v = dims.vision;
  return [
    str(G.architecture, GGUF_VALUES.visionArchitecture),
    str(G.name, `${source.name} vision`),
    u32(G.fileType, VISION_FILE_TYPE[type]),
    bool(V.hasTextEncoder, false),
    bool(V.hasVisionEncoder, true),
    bool(V.hasLlavaProjector, true),
    str(V.projectorType, GGUF_VALUES.projectorType),
    u32(V.imageSize, v.imageSize),
    u32(V.patchSize, v.patchSize),
    u32(V.embeddingLength, v.hiddenSize),
    u32(V.feedForwardLength, v.intermediateSize),
    u32(V.projectionDim, dims.text.nEmbd),
    u32(V.headCount, v.numHeads),
    f32(V.layerNormEpsilon, v.layerNormEps),
    u32(V.blockCount, v.numLayers),
    // Run every block, then post_ln: without this llama.cpp's llava graph stops one block early.
    { key: V.featureLayer, type: 'array', itemType: 'int32', value: [v.numLayers] },
    { key: V.imageMean, type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
    { key: V.imageStd, type: 'array', itemType: 'float32', value: [0.5, 0.5, 0.5] },
    bool(V.useGelu, true),
    ...commonKeys(source),
    str(VISION_PROFILE_KEYS.visionGelu, GGUF_VALUES.geluErf),
    str(VISION_PROFILE_KEYS.projectorGelu, GGUF_VALUES.geluErf),
    str(VISION_PROFILE_KEYS.resize, GGUF_VALUES.resizeStretch),
  ];
}
