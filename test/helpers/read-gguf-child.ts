// Child-process half of the hostile-file tests: reads one GGUF file and reports the outcome as
// JSON on stdout. If ggml aborted instead, the parent sees a signal rather than this line.
import { readGgufInfo } from '../../src/index.js';

const path = process.argv[2] ?? '';
try {
  const info = await readGgufInfo(path);
  console.log(JSON.stringify({ ok: true, tensors: info.tensors.length, metadata: info.metadata.length }));
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  console.log(JSON.stringify({ ok: false, code, message }));
}
