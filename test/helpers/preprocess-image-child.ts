// Child-process half of the hostile-image tests: preprocesses one image (a file path, or bytes
// read from a file when the second argument is "bytes") and prints the outcome as JSON. If the
// decoder or the resampler aborted instead, the parent sees a signal rather than this line.
import { readFileSync } from 'node:fs';
import { preprocessImage } from '../../src/index.js';

const [path = '', as = 'path', optionsJson = '{}'] = process.argv.slice(2);
try {
  const input = as === 'bytes' ? readFileSync(path) : path;
  const out = await preprocessImage(input, JSON.parse(optionsJson) as { maxPixels?: number });
  let min = Infinity;
  let max = -Infinity;
  for (const v of out) { if (v < min) min = v; if (v > max) max = v; }
  console.log(JSON.stringify({ ok: true, length: out.length, min, max }));
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  console.log(JSON.stringify({ ok: false, code, message }));
}
