// What every route needs from the server: the engine once the model is loaded, names, policies.
import type { Engine } from './engine.js';
import type { ImagePolicy } from './image-input.js';

export interface ModelDescription {
  name: string;
  /** Unix seconds when the server loaded the model. */
  created: number;
  sizeBytes: number;
  digest: string;
  quantization: string;
  parameterSize: string;
}

export interface RouteContext {
  /** The engine, or a 503 HttpError while the model is loading. */
  engine(): Engine;
  model(): ModelDescription;
  imagePolicy: ImagePolicy;
}
