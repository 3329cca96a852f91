// Which model the ask/caption/chat commands use: --model, else the pulled one, else pull it now.
import { findPulledModel, pullModel } from '../hub.js';
import type { ModelSource } from '../model-files.js';

export async function resolveCliModel(explicit: string | undefined, signal: AbortSignal): Promise<ModelSource> {
  if (explicit) return explicit;
  const pulled = await findPulledModel();
  if (pulled) return pulled;
  process.stderr.write('No model found: pulling vikhyatk/moondream1 from the Hugging Face hub (once; see `moondream-ggml pull --help`).\n');
  const result = await pullModel({ signal });
  return { text: result.textPath, mmproj: result.mmprojPath };
}
