// The names table the native addon was compiled with (native/addon/gguf_names_binding.cpp), so a
// test can check the loader reads the same table the converter writes from. Declared here, as an
// augmentation of NativeAddon, to keep binding.ts free of it.
import { addon } from '../binding.js';

/** Shaped like native/gguf_names.json's layerPlaceholder and names: { group: { id: name } }. */
export interface CompiledGgufNames {
  layerPlaceholder: string;
  names: Record<string, Record<string, string>>;
}

declare module '../binding.js' {
  interface NativeAddon {
    ggufNames(): CompiledGgufNames;
  }
}

export function compiledGgufNames(): CompiledGgufNames {
  return addon().ggufNames();
}
