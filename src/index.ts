export { Moondream } from './moondream.js';
export { MoondreamSession } from './session.js';
export type {
  LoadOptions, ModelLoadOptions, SessionOptions, SessionInfo, GenerateOptions, GenerateResult, SamplingOptions, AnswerOptions, Answer, OpTime,
} from './api-types.js';
export { ChatSession } from './chat.js';
export type { BatchOptions, BatchProgress } from './batch/options.js';
export type { BatchSummary } from './batch/progress.js';
export type { BatchRecord, BatchAnswerRecord, BatchErrorRecord, BatchTimings } from './batch/records.js';
export type { ChatTurn } from './prompt.js';
export type { ModelInfo } from './model-info.js';
export { EncodedImage, type EncodeTimings } from './encoded-image.js';
export type { ModelFiles, ModelSource } from './model-files.js';
export { MoondreamError, type MoondreamErrorCode } from './errors.js';
export { ggmlInfo, type GgmlInfo } from './ggml-info.js';
export { probeMachine, type MachineProbe, type ProbeMachineOptions } from './machine-probe.js';
export { readGgufInfo } from './gguf/read.js';
export { preprocessImage, VISION_IMAGE_SIZE, type PreprocessImageOptions } from './preprocess.js';
export type { ImageInput } from './image.js';
export { Tokenizer, type DetokenizeOptions } from './tokenizer.js';
export { GgufWriter, writeGguf, GGUF_VERSION, GGUF_DEFAULT_ALIGNMENT, type GgufTensorEntry, type GgufWriterOptions } from './gguf/writer.js';
export { GGML_TYPES, tensorByteSize, type GgmlTypeName } from './gguf/ggml-types.js';
export type {
  GgufInfo, GgufMetadataEntry, GgufTensorInfo, GgufValue, GgufScalar, GgufArray, GgufScalarType,
} from './gguf/types.js';
export {
  pullModel, defaultModelDir, findPulledModel, DEFAULT_HF_ENDPOINT, MOONDREAM1_REPO,
  type PullOptions, type PullProgress, type PulledModel, type ModelLocation,
} from './hub.js';
export { createServer, type MoondreamServer } from './server/create-server.js';
export type { ServerOptions } from './server/options.js';
