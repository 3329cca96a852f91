import { readGgufInfo } from '../gguf/read.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { toJson } from './json.js';

const HELP = `Usage: moondream-ggml info <file.gguf> [--json]

Prints the GGUF version, every metadata key with its type and value (long arrays shortened unless
--json) and every tensor's name, type, shape and offset.
`;

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
