// An image encoded by a model's vision tower: the rows the text model reads in place of the
// <image> tokens. Reusable across questions.

export interface EncodeTimings {
  /** Decoding the file and Pillow-exact resizing/normalisation. */
  preprocessMs: number;
  /** The vision tower and projector. */
  encodeMs: number;
  totalMs: number;
}

export class EncodedImage {
  /** @internal */
  constructor(
    /** rows x width floats, one row per 14x14 patch in raster order. */
    readonly embeddings: Float32Array,
    readonly rows: number,
    readonly width: number,
    readonly timings: Readonly<EncodeTimings>,
    /** @internal The model that encoded it: rows only make sense to that model. */
    readonly owner: object,
    /** @internal Identifies the image's kept prompt prefix inside the model. */
    readonly id: number,
  ) {}
}
