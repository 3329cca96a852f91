import { addon, type NativeModel } from './binding.js';
import { MoondreamError, fromNativeError } from './errors.js';
import type { ModelInfo } from './model-info.js';
import { resolveModelFiles, type ModelFiles, type ModelSource } from './model-files.js';

/** A loaded moondream model: weights memory-mapped, validated against the expected layout. */
export class Moondream {
  private native: NativeModel | null;

  private constructor(native: NativeModel, readonly files: Readonly<ModelFiles>) {
    this.native = native;
  }

  /**
   * Loads a GGUF pair: a folder holding `moondream1-text-model-*.gguf` and
   * `moondream1-mmproj-*.gguf`, or explicit `{ text, mmproj }` paths (`mmproj` may be omitted to
   * load the text model alone). Every key, tensor name, shape and type is checked before use.
   */
  static async load(source: ModelSource): Promise<Moondream> {
    const files = await resolveModelFiles(source);
    try {
      const native = await addon().loadModel(files.text, files.mmproj ?? '');
      return new Moondream(native, Object.freeze({ ...files }));
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** Dimensions and prompt profile of the loaded pair. */
  get info(): ModelInfo {
    return this.use().info();
  }

  /** Frees the model. Later calls throw ERR_DISPOSED. Safe to call twice. */
  dispose(): void {
    this.native?.dispose();
    this.native = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  private use(): NativeModel {
    if (!this.native) throw new MoondreamError('ERR_DISPOSED', 'This Moondream model was disposed');
    return this.native;
  }
}
