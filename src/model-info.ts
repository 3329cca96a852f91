export type { ModelInfo } from './native-types.js';
