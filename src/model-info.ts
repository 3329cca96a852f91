/** What a loaded model is: its dimensions and how it is prompted (from the GGUF pair). */
export interface ModelInfo {
  text: {
    vocabSize: number;
    embeddingLength: number;
    blockCount: number;
    headCount: number;
    feedForwardLength: number;
    contextLength: number;
    ropeDimensions: number;
    ropeBase: number;
    layerNormEpsilon: number;
  };
  prompt: {
    /** "moondream1" for our files; "moondream2-gguf" for files without moondream.* keys. */
    name: string;
    template: string;
    historyTurn: string;
    captionQuestion: string;
    /** -1 when no BOS is prepended. */
    bosTokenId: number;
    stopTokenIds: number[];
    maxNewTokens: number;
    stripSuffixes: string[];
    license: string;
    revision: string;
  };
  vision: null | {
    /** Side of the square vision input in pixels, from the mmproj (378 for moondream1); preprocessing resizes to it. */
    imageSize: number;
    patchSize: number;
    embeddingLength: number;
    headCount: number;
    feedForwardLength: number;
    /** Blocks stored in the file; moondream2 files carry one extra that is not run. */
    blockCountInFile: number;
    /** Blocks the encoder runs. */
    blockCount: number;
    projectionInner: number;
    projectionDim: number;
    layerNormEpsilon: number;
    /** Legacy llava naming (ffn_down holds fc1) was detected by shape and undone. */
    ffnNamesSwapped: boolean;
    gelu: 'erf' | 'tanh';
    projectorGelu: 'erf' | 'tanh';
    /** How images reach the square input: always "stretch" (no crop, no padding), moondream1's way. */
    resize: 'stretch';
    /** Per-channel normalisation (v / 255 - mean) / std, from the mmproj; preprocessing applies it. */
    imageMean: number[];
    imageStd: number[];
  };
  /** Bytes of the memory-mapped files. */
  mappedBytes: number;
  /** Weight bytes copied at load into repacked layouts for faster CPU kernels (ggml's, and ours for q8_0/q4_0 on AVX-512 VNNI); their mapped pages are released. */
  repackedBytes: number;
}
