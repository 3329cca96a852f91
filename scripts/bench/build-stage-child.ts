// One measurement of one benchmark stage with whatever addon MOONDREAM_GGML_BINARY names, in a
// process of its own (scripts/bench-builds.ts runs one per build, alternating).
//   node dist/scripts/bench/build-stage-child.js '{"stage":"text","text":…,"mmproj":…,"threads":2,"promptLength":750,"decoded":128}'
import { ggmlInfo } from '../../src/index.js';
import { answerTimings } from './answer.js';
import { ourTextSpeed } from './text.js';
import { ourEncodeMs } from './vision.js';

interface ChildArgs {
  stage: 'text' | 'vision' | 'answer';
  text: string;
  mmproj: string;
  image: string;
  threads: number;
  promptLength: number;
  decoded: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const backend = ggmlInfo().cpuBackend.variant;
let values: Record<string, number>;
if (args.stage === 'text') {
  const speed = await ourTextSpeed(args.text, args.threads, args.promptLength, args.decoded, 1);
  values = { prefillTokensPerSecond: speed.prefillTokensPerSecond, decodeTokensPerSecond: speed.decodeTokensPerSecond };
} else if (args.stage === 'vision') {
  values = { encodeMs: (await ourEncodeMs(args, args.threads, 1)).ms };
} else {
  const t = await answerTimings(args, args.image, args.threads, 32);
  values = {
    loadMs: t.loadMs, encodeMs: t.encodeMs, firstTimeToFirstTokenMs: t.first.timeToFirstTokenMs,
    decodeTokensPerSecond: t.first.decodeTokensPerSecond, repeatedTimeToFirstTokenMs: t.repeated.timeToFirstTokenMs, endToEndMs: t.endToEndMs,
  };
}
process.stdout.write(JSON.stringify({ backend, values }));
