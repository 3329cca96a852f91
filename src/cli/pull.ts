import { parseTextType, parseVisionType, TEXT_TYPES, VISION_TYPES } from '../convert/quant-types.js';
import { MoondreamError } from '../errors.js';
import { defaultModelDir, pullModel, type PullProgress } from '../hub.js';
import { MOONDREAM1_REPO } from '../hub/repo-files.js';
import { parseArgs, UsageError } from './args.js';
import { progressBar, type ProgressBar } from './progress.js';

const lower = (types: readonly string[]) => types.map((t) => t.toLowerCase()).join('|');

export const PULL_HELP = `Usage: moondream-ggml pull [options]

Downloads ${MOONDREAM1_REPO} from the Hugging Face hub (sizes and sha256 checked; an interrupted
download resumes), converts it to a GGUF pair and keeps it in the cache, where \`ask\` finds it:
  ${defaultModelDir()}
A second pull of a model already in the cache does nothing.

Options:
  --type <t>              Text model type: ${lower(TEXT_TYPES)} (default q4_0)
  --vision-type <t>       Vision model type: ${lower(VISION_TYPES)} (default f16). bf16: on a CPU
                          with AVX-512 BF16 the image encode runs about 1.7x faster, but the image
                          embeddings sit about 6e-3 (relative RMS) from f32's, f16's 1e-4
                          (\`npm run bench\` measures both)
  --revision <r>          Hub revision (default: the pinned commit the converter targets)
  --prune                 Delete the downloaded Hugging Face files (3.7 GB, in hf/) after converting;
                          kept by default so another --type converts without downloading again
  -h, --help              Show this help

Environment:
  HF_ENDPOINT             Hub address (default https://huggingface.co)
  HF_TOKEN                Hugging Face access token, sent as a Bearer header
  XDG_CACHE_HOME          Cache root (default ~/.cache)

moondream1's weights are licensed for research only, no commercial use.
`;

const megabytes = (bytes: number) => (bytes / 1e6).toFixed(0);

/** One bar per phase: bytes while downloading, tensors while converting. */
function progressReporter(): { onProgress: (p: PullProgress) => void; finish: () => void } {
  let phase: PullProgress['phase'] | undefined;
  let bar: ProgressBar | undefined;
  return {
    onProgress(p) {
      if (p.phase === 'wait') {
        // Another process pulls the same model into this cache; it is used once that one is done.
        if (phase !== 'wait') process.stderr.write('waiting for another pull of this model into the same cache...\n');
        phase = 'wait';
        return;
      }
      if (p.phase !== phase) {
        bar?.finish();
        phase = p.phase;
        bar = progressBar(p.phase === 'download' ? 'downloading' : 'converting');
      }
      bar!.update(p.done, p.total, p.phase === 'download' ? `${megabytes(p.done)}/${megabytes(p.total)} MB ${p.file}` : p.tensor);
    },
    finish: () => bar?.finish(),
  };
}

export async function runPull(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--type', '--vision-type', '--revision'], ['--help', '--prune']);
  if (args.flags.has('--help')) {
    process.stdout.write(PULL_HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`pull takes no arguments, got "${args.positionals[0]}"`);
  const textType = parseTextType(args.values.get('--type') ?? 'q4_0');
  if (!textType) throw new UsageError(`--type must be one of ${lower(TEXT_TYPES)}`);
  const visionType = parseVisionType(args.values.get('--vision-type') ?? 'f16');
  if (!visionType) throw new UsageError(`--vision-type must be one of ${lower(VISION_TYPES)}`);
  const revision = args.values.get('--revision');

  // Ctrl-C stops cleanly (sockets closed, the partial download kept for a resume); a second one
  // exits at once.
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const progress = progressReporter();
  try {
    const pulled = await pullModel({
      textType, visionType, prune: args.flags.has('--prune'), signal: controller.signal, onProgress: progress.onProgress,
      ...(revision !== undefined ? { revision } : {}),
    });
    progress.finish();
    process.stderr.write(`${pulled.cached ? 'already in the cache' : 'pulled'}: ${MOONDREAM1_REPO} @ ${pulled.revision.slice(0, 7)} in ${pulled.dir}\n`
      + `licence: ${pulled.license}\n`);
    process.stdout.write(`${pulled.textPath}\n${pulled.mmprojPath}\n`);
    return 0;
  } catch (error) {
    progress.finish();
    if (error instanceof MoondreamError && error.code === 'ERR_ABORTED') {
      process.stderr.write('moondream-ggml: pull interrupted; run it again to resume\n');
      return 130;
    }
    throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
