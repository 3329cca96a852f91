// The names table the native addon was compiled with (native/addon/gguf_names_binding.cpp), so a
// test can check the loader reads the same table the converter writes from.
import { addon } from '../binding.js';
import type { CompiledGgufNames } from '../native-types.js';

export type { CompiledGgufNames };

export function compiledGgufNames(): CompiledGgufNames {
  return addon().ggufNames();
}
