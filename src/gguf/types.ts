/** GGUF's scalar value types, by the names GGUF's own spec uses. */
export type GgufScalarType =
  | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32'
  | 'bool' | 'string' | 'uint64' | 'int64' | 'float64';

/** GGUF type ids, in the file format's numbering. */
export const GGUF_TYPE_IDS: Readonly<Record<GgufScalarType | 'array', number>> = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6,
  bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
};

/** JS representation of one scalar: 64-bit integers are BigInt so nothing is rounded. */
export type GgufScalarValue<T extends GgufScalarType> =
  T extends 'uint64' | 'int64' ? bigint
    : T extends 'bool' ? boolean
      : T extends 'string' ? string
        : number;

export type GgufScalar = { [T in GgufScalarType]: { type: T; value: GgufScalarValue<T> } }[GgufScalarType];
export type GgufArray = { [T in GgufScalarType]: { type: 'array'; itemType: T; value: GgufScalarValue<T>[] } }[GgufScalarType];
export type GgufValue = GgufScalar | GgufArray;

/** One metadata entry, in file order. The reader returns exactly what the writer takes. */
export type GgufMetadataEntry = GgufValue & { key: string };

export interface GgufTensorInfo {
  name: string;
  /** ggml type name: "f32", "f16", "q4_0", ... */
  type: string;
  typeId: number;
  /** ggml `ne` order (fastest dimension first), trailing 1s dropped, at least one dimension. */
  shape: number[];
  /** Byte offset from the start of the data section. */
  offset: number;
  /** Bytes. */
  size: number;
}

export interface GgufInfo {
  version: number;
  alignment: number;
  /** Absolute file offset of the data section. */
  dataOffset: number;
  fileSize: number;
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorInfo[];
}
