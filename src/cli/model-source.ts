// Which model the ask/caption/chat commands use: --model, else the pulled one, else pull it now.
// MOONDREAM_REVISION picks another hub revision than the pinned one (mirrors, tests).
import { findPulledModel, pullModel } from '../hub.js';
import type { ModelSource } from '../model-files.js';

export async function resolveCliModel(explicit: string | undefined, signal: AbortSignal): Promise<ModelSource> {
  if (explicit) return explicit;
  const revision = process.env.MOONDREAM_REVISION || undefined;
  const pulled = await findPulledModel(revision ? { revision } : undefined);
  if (pulled) return pulled;
  process.stderr.write('No model found: pulling vikhyatk/moondream1 from the Hugging Face hub (once; see `moondream-ggml pull --help`).\n');
  const result = await pullModel({ signal, ...(revision ? { revision } : {}) });
  return { text: result.textPath, mmproj: result.mmprojPath };
}
