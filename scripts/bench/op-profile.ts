// "Where the time goes": one answer (q4_0 text + f16 mmproj) with every graph run op by op
// (profileOps), each op's time, and for the matmuls and the attention the rate they reached against
// the probe's peak. This is what bounds a stage that misses its target.
import type { OpTime } from '../../src/index.js';
import type { ProfileChildResult } from './child.js';
import { prefillWork, VISION_SHAPE, visionFlops } from './machine.js';
import { steady as held, type ProbeSummary } from './probe.js';
import { fmt } from './stats.js';

export interface ProfileMeasurement extends ProfileChildResult {
  type: string;
}

type Peak = 'fp32' | 'int8';

/** The ops whose work is counted, per graph: which ops, how much work, at which peak. */
interface WorkGroup {
  label: string;
  ops: string[];
  work: number;
  peak: Peak;
}

function groups(graph: string, m: ProfileMeasurement): WorkGroup[] {
  if (graph === 'vision graph') {
    const d = VISION_SHAPE;
    const attention = d.blocks * 4 * d.n * d.n * d.width;
    return [
      { label: 'f16 matmuls', ops: ['f16_matmul', 'f16_matmul_gelu', 'MUL_MAT'], work: visionFlops(d) - attention, peak: 'fp32' },
      { label: 'attention', ops: ['vision_attention', 'SOFT_MAX'], work: attention, peak: 'fp32' },
    ];
  }
  if (graph === 'prefill graph') {
    const work = prefillWork(m.promptPositions);
    return [
      { label: 'int8 matmuls', ops: ['vnni_matmul', 'vnni_matmul_gelu', 'vnni_matvec', 'vnni_matvec_gelu', 'MUL_MAT'], work: work.matmulFlops, peak: 'int8' },
      { label: 'attention', ops: ['prefill_attention', 'FLASH_ATTN_EXT'], work: work.attentionFlops, peak: 'fp32' },
    ];
  }
  return [];
}

const sum = (ops: OpTime[]) => ops.reduce((s, o) => s + o.ms, 0);

/** Markdown lines and the summary of the profile. `steady`: whether each peak may be used for a fraction. */
export function profileLines(m: ProfileMeasurement, p: ProbeSummary, steady: Record<Peak, boolean>): { lines: string[]; summary: unknown } {
  const lines: string[] = [];
  const summary: Record<string, unknown> = { type: m.type, promptPositions: m.promptPositions, decodedTokens: m.decodedTokens };
  lines.push(`## where the time goes: one answer, ${m.type} + f16 mmproj, every graph run op by op`);
  lines.push('');
  lines.push(`Run op by op (\`profileOps\`), each op costs a thread wake-up more, so these totals sit a little above the wall times: ` +
    `encode ${fmt(m.encodeMs / 1000)} s, prefill of ${m.promptPositions} positions ${fmt(m.prefillMs / 1000)} s, ` +
    `${m.decodedTokens} decode steps ${fmt(m.decodeMs / 1000)} s in this run. Rates are work / op time; fractions are of the probe's peak ` +
    '(withheld when that probe quantity spread).');
  for (const graph of ['vision graph', 'prefill graph', 'decode graph']) {
    const ops = m.ops.filter((o) => o.graph === graph).sort((a, b) => b.ms - a.ms);
    if (!ops.length) continue;
    const total = sum(ops);
    const counted = groups(graph, m);
    lines.push('');
    lines.push(`### ${graph.replace(' graph', '')}: ${fmt(total / 1000)} s over ${ops.reduce((s, o) => s + o.count, 0)} ops`);
    lines.push('');
    lines.push('| op | s | share | nodes |');
    lines.push('|---|---|---|---|');
    const shown = ops.filter((o) => o.ms / total >= 0.005);
    for (const o of shown) lines.push(`| ${o.op} | ${fmt(o.ms / 1000, 3)} | ${fmt((100 * o.ms) / total, 1)}% | ${o.count} |`);
    const rest = ops.filter((o) => !shown.includes(o));
    if (rest.length) lines.push(`| ${rest.length} other ops | ${fmt(sum(rest) / 1000, 3)} | ${fmt((100 * sum(rest)) / total, 1)}% | ${rest.reduce((s, o) => s + o.count, 0)} |`);
    const graphSummary: Record<string, unknown> = { totalMs: total };
    if (counted.length) {
      lines.push('');
      lines.push('| work | s | share | G(FL)OP | rate G/s | fraction of the peak |');
      lines.push('|---|---|---|---|---|---|');
      let countedMs = 0;
      for (const g of counted) {
        const ms = sum(ops.filter((o) => g.ops.includes(o.op)));
        countedMs += ms;
        const rate = g.work / (ms / 1000);
        const fraction = rate / p[g.peak].value;
        // The int8 matmuls also against their kernels' roofline (the rate with q8_0's per-block scaling).
        const roofline = g.peak === 'int8' && p.int8Block && p.int8Block.value > 0 && held(p.int8Block) ? `, ${fmt(rate / p.int8Block.value)} of our kernels' roofline` : '';
        lines.push(`| ${g.label} (${g.ops.filter((name) => ops.some((o) => o.op === name)).join(', ')}) | ${fmt(ms / 1000, 3)} | ${fmt((100 * ms) / total, 1)}% | ` +
          `${fmt(g.work / 1e9, 0)} | ${fmt(rate / 1e9, 0)} | ${steady[g.peak] ? `${fmt(fraction)} of ${g.peak}${roofline}` : '–'} |`);
        graphSummary[g.label] = { ms, work: g.work, rate, fraction: steady[g.peak] ? fraction : null };
      }
      lines.push(`| everything else | ${fmt((total - countedMs) / 1000, 3)} | ${fmt((100 * (total - countedMs)) / total, 1)}% | | | |`);
      graphSummary.otherMs = total - countedMs;
    }
    summary[graph.replace(' graph', '')] = graphSummary;
  }
  return { lines, summary };
}
