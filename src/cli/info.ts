import { stat } from 'node:fs/promises';
import { Moondream } from '../moondream.js';
import { readGgufInfo } from '../gguf/read.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { toJson } from './json.js';

const HELP = `Usage: moondream-ggml info <model-folder | file.gguf> [--json]

For a model folder (the GGUF pair): loads it and prints its dimensions, prompt profile and licence.
For a GGUF file: prints the GGUF version, every metadata key with its type and value (long arrays
shortened unless --json) and every tensor's name, type, shape and offset.
`;

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

function preview(entry: GgufMetadataEntry): string {
  if (entry.type !== 'array') return `${entry.type} = ${typeof entry.value === 'string' ? JSON.stringify(entry.value) : String(entry.value)}`;
  const items = (entry.value as unknown[]).slice(0, 8).map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  const more = entry.value.length > 8 ? `, ... (${entry.value.length} items)` : '';
  return `array<${entry.itemType}>[${entry.value.length}] = [${items.join(', ')}${more}]`;
}

export async function runInfo(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const json = args.includes('--json');
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length !== 1) {
    process.stderr.write(HELP);
    return 1;
  }
  if (await isDirectory(files[0]!)) {
    const md = await Moondream.load(files[0]!);
    try {
      const model = { files: md.files, ...md.info };
      if (json) {
        process.stdout.write(`${toJson(model)}\n`);
      } else {
        const t = model.text;
        const v = model.vision;
        process.stdout.write([
          `text:   ${md.files.text}`,
          `        ${t.blockCount} blocks x ${t.embeddingLength}, ${t.headCount} heads, context ${t.contextLength}, vocabulary ${t.vocabSize}`,
          `mmproj: ${md.files.mmproj ?? '(none)'}`,
          v ? `        ${v.blockCount} blocks x ${v.embeddingLength}, ${v.imageSize}px / ${v.patchSize}px patches, ${v.gelu} GELU, ${v.resize} resize` : '',
          `prompt: ${model.prompt.name}, stop ids [${model.prompt.stopTokenIds.join(', ')}], up to ${model.prompt.maxNewTokens} new tokens`,
          `licence: ${model.prompt.license}; revision ${model.prompt.revision}`,
        ].filter(Boolean).join('\n') + '\n');
      }
      return 0;
    } finally {
      md.dispose();
    }
  }
  const info = await readGgufInfo(files[0]!);
  if (json) {
    process.stdout.write(`${toJson(info)}\n`);
    return 0;
  }
  const lines = [
    `GGUF v${info.version}, ${info.fileSize} bytes, alignment ${info.alignment}, data at ${info.dataOffset}`,
    `${info.metadata.length} metadata entries:`,
    ...info.metadata.map((e) => `  ${e.key}: ${preview(e)}`),
    `${info.tensors.length} tensors:`,
    ...info.tensors.map((t) => `  ${t.name.padEnd(32)} ${t.type.padEnd(5)} [${t.shape.join(', ')}] @${t.offset} (${t.size} bytes)`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
