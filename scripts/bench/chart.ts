// The benchmark's PNG chart: per stage, our time against llama.cpp's, with this machine's bound
// marked. Drawn as SVG and rasterised by sharp (librsvg), so no charting dependency is needed.
import sharp from 'sharp';

export interface ChartStage {
  label: string;
  oursSeconds: number;
  theirsSeconds: number;
  theirsLabel: string;  // which llama.cpp tool and setting the figure comes from
  boundSeconds?: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const seconds = (s: number) => (s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3)) + ' s';

export function chartSvg(title: string, stages: readonly ChartStage[]): string {
  const width = 1000;
  const left = 330;
  const barMax = width - left - 250;  // room for the value label after the longest bar
  const rowHeight = 64;
  const top = 70;
  const height = top + rowHeight * stages.length + 50;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="32" font-size="20" font-weight="bold">${escape(title)}</text>`,
    `<text x="20" y="54" font-size="13" fill="#555">time per stage, shorter is better; bars scaled per row; | marks the machine bound</text>`,
  ];
  stages.forEach((stage, i) => {
    const y = top + i * rowHeight;
    const scale = barMax / Math.max(stage.oursSeconds, stage.theirsSeconds, stage.boundSeconds ?? 0);
    const ratio = stage.theirsSeconds / stage.oursSeconds;
    parts.push(`<text x="20" y="${y + 22}" font-size="14">${escape(stage.label)}</text>`);
    parts.push(`<text x="20" y="${y + 42}" font-size="13" fill="${ratio >= 1 ? '#1a7f37' : '#b42318'}">${ratio.toFixed(2)}x vs ${escape(stage.theirsLabel)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 8}" width="${stage.oursSeconds * scale}" height="20" fill="#2f6fde"/>`);
    parts.push(`<text x="${left + stage.oursSeconds * scale + 6}" y="${y + 23}" font-size="13">moondream-ggml ${seconds(stage.oursSeconds)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 32}" width="${stage.theirsSeconds * scale}" height="20" fill="#9aa4b2"/>`);
    parts.push(`<text x="${left + stage.theirsSeconds * scale + 6}" y="${y + 47}" font-size="13">${escape(stage.theirsLabel)} ${seconds(stage.theirsSeconds)}</text>`);
    if (stage.boundSeconds !== undefined) {
      const x = left + stage.boundSeconds * scale;
      parts.push(`<line x1="${x}" y1="${y + 4}" x2="${x}" y2="${y + 56}" stroke="#111" stroke-width="2"/>`);
    }
  });
  parts.push(`<text x="20" y="${height - 18}" font-size="12" fill="#555">${escape('blue: moondream-ggml; grey: llama.cpp; bound from this machine\'s probe (read bandwidth for decode, int8/fp32 peaks for prefill and vision)')}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export async function chartPng(title: string, stages: readonly ChartStage[]): Promise<Buffer> {
  return sharp(Buffer.from(chartSvg(title, stages))).png().toBuffer();
}
