export type {
  GgufScalarType, GgufScalarValue, GgufScalar, GgufArray, GgufValue, GgufMetadataEntry, GgufTensorInfo, GgufInfo,
} from '../native-types.js';
import type { GgufScalarType } from '../native-types.js';

/** GGUF type ids, in the file format's numbering. */
export const GGUF_TYPE_IDS: Readonly<Record<GgufScalarType | 'array', number>> = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6,
  bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
};
