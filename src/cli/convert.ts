import { convertCheckpoint } from '../convert/convert.js';
import { parseTextType, parseVisionType, TEXT_TYPES, VISION_TYPES } from '../convert/quant-types.js';
import { modelFilePattern } from '../model-file-names.js';
import { integerOption, parseArgs, UsageError } from './args.js';
import { progressBar } from './progress.js';

const lower = (types: readonly string[]) => types.map((t) => t.toLowerCase()).join('|');

export const CONVERT_HELP = `Usage: moondream-ggml convert <hf-dir> --out <dir> [options]

Converts a Hugging Face moondream1 checkpoint (model.safetensors, tokenizer.json, config.json) into
the GGUF pair ${modelFilePattern('text', '<type>')} + ${modelFilePattern('mmproj', '<vision-type>')}, in
llama.cpp's phi2 + clip conventions (llama.cpp can run them too).

Options:
  --out <dir>             Output folder (created if needed)
  --type <t>              Text model type: ${lower(TEXT_TYPES)} (default f16)
  --vision-type <t>       Vision model type: ${lower(VISION_TYPES)} (default f16). bf16: on a CPU
                          with AVX-512 BF16 the image encode runs about 1.7x faster, but the image
                          embeddings sit about 6e-3 (relative RMS) from f32's, f16's 1e-4
                          (\`npm run bench\` measures both)
  --revision <id>         Source revision recorded in the files
  --threads <n>           Quantization threads (default: physical cores)
  -h, --help              Show this help
`;

export async function runConvert(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--out', '--type', '--vision-type', '--revision', '--threads'], ['--help']);
  if (args.flags.has('--help')) {
    process.stdout.write(CONVERT_HELP);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError('convert needs exactly one checkpoint folder');
  const outDir = args.values.get('--out');
  if (!outDir) throw new UsageError('convert needs --out <dir>');
  const textType = parseTextType(args.values.get('--type') ?? 'f16');
  if (!textType) throw new UsageError(`--type must be one of ${lower(TEXT_TYPES)}`);
  const visionType = parseVisionType(args.values.get('--vision-type') ?? 'f16');
  if (!visionType) throw new UsageError(`--vision-type must be one of ${lower(VISION_TYPES)}`);
  const threads = integerOption(args, '--threads', 1, 1024);
  const revision = args.values.get('--revision');

  const bar = progressBar('converting');
  const started = Date.now();
  const result = await convertCheckpoint({
    checkpointDir: args.positionals[0]!,
    outDir,
    textType,
    visionType,
    ...(threads !== undefined ? { threads } : {}),
    ...(revision !== undefined ? { revision } : {}),
    onProgress: (p) => bar.update(p.done, p.total, p.tensor),
  });
  bar.finish();
  process.stderr.write(`converted in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${result.textPath}\n${result.mmprojPath}\n`);
  return 0;
}
