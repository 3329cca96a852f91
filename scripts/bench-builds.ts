// npm run bench:builds -- [--builds native=build/Release/moondream_ggml.node,portable=build-portable/Release/moondream_ggml.node]
//                         [--runs 3] [--threads 2] [--types q4_0,q8_0] [--stages text,vision,answer] [--checkpoint DIR] [--json]
// Every stage of `npm run bench` that measures moondream-ggml (text prefill and decode per type,
// vision encode, and the answer stage's load / encode / first token / decode / repeated question /
// end to end), for two or more builds of the addon in one run: each measurement in a fresh process
// with MOONDREAM_GGML_BINARY set, the builds alternating within every run (their order flipping
// from run to run) so that a busy machine slows them alike. Prints each stage's medians and the
// ratio of every build to the first, where > 1 means faster, and each build's range over the runs:
// a ratio whose ranges overlap is within this machine's run-to-run spread.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TextType } from '../src/convert/quant-types.js';
import type { ChildJob, ChildResult } from './bench/child.js';
import { fullCheckpoint, fullPair } from './bench/full-models.js';
import { fmt, median } from './bench/stats.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const builds = option('--builds', 'native=build/Release/moondream_ggml.node,portable=build-portable/Release/moondream_ggml.node')
  .split(',').map((entry) => {
    const [name, path] = entry.split('=');
    if (!name || !path) throw new Error(`--builds takes name=path pairs, got "${entry}"`);
    return { name, path: resolve(path) };
  });
const runs = Number(option('--runs', '3'));
const threads = Number(option('--threads', '2'));
const types = option('--types', 'q4_0,q8_0').split(',') as TextType[];
const promptLength = 750;
const decoded = 128;
const log = (line: string) => process.stderr.write(`${line}\n`);
const checkpointArg = process.argv.includes('--checkpoint') ? option('--checkpoint', '') : undefined;
let checkpoint: Promise<string> | undefined;
const lazyCheckpoint = () => (checkpoint ??= fullCheckpoint(checkpointArg, log));
// The same child process `npm run bench` measures ours with, so both report the same quantities.
const child = fileURLToPath(new URL('./bench/child.js', import.meta.url));
const image = fileURLToPath(new URL('../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url));

// Higher is better for rates, lower for times.
const higherIsBetter = (metric: string) => metric.endsWith('PerSecond');

interface Stage { label: string; stage: 'text' | 'vision' | 'answer'; type: TextType }
const stageKinds = new Set(option('--stages', 'text,vision,answer').split(','));
const stages: Stage[] = [
  ...types.map((type) => ({ label: `text ${type}`, stage: 'text' as const, type })),
  { label: 'vision f16', stage: 'vision' as const, type: types[0] ?? 'q4_0' },
  ...types.map((type) => ({ label: `answer ${type}`, stage: 'answer' as const, type })),
].filter((stage) => stageKinds.has(stage.stage));
if (stages.length === 0) throw new Error('--stages takes a comma-separated list of text, vision and answer');

function metrics(measured: ChildResult): Record<string, number> {
  if (measured.kind === 'text') {
    const r = measured.result;
    return { prefillTokensPerSecond: promptLength / (r.prefillMs / 1000), decodeTokensPerSecond: r.decodeSteps / (r.decodeMs / 1000) };
  }
  if (measured.kind === 'vision') return { encodeMs: median(measured.result.encodeMs) };
  if (measured.kind === 'profile' || measured.kind === 'served' || measured.kind === 'load' || measured.kind === 'vision-error') throw new Error(`bench:builds runs no ${measured.kind} job`);
  const t = measured.result;
  return {
    loadMs: t.loadMs, encodeMs: t.encodeMs, firstTimeToFirstTokenMs: t.first.prefillMs, decodeTokensPerSecond: t.first.decodeTokensPerSecond,
    repeatedTimeToFirstTokenMs: t.repeated.timeToFirstTokenMs, endToEndMs: t.endToEndMs,
  };
}

// samples[stage][build][metric] = values
const samples = new Map<string, Map<string, Map<string, number[]>>>();
const variants = new Map<string, string>();
for (let run = 0; run < runs; run++) {
  for (const stage of stages) {
    const pair = await fullPair(lazyCheckpoint, stage.type, 'f16', log);
    const order = run % 2 === 0 ? builds : [...builds].reverse();
    for (const build of order) {
      log(`run ${run + 1}/${runs}: ${stage.label}, ${build.name} ...`);
      const job: ChildJob = stage.stage === 'text' ? { kind: 'text', text: pair.text, threads, promptLength, decoded }
        : stage.stage === 'vision' ? { kind: 'vision', ...pair, threads, reps: 1 }
        : { kind: 'answer', ...pair, image, threads, maxTokens: 32 };
      const result = spawnSync(process.execPath, [child, JSON.stringify(job)], {
        env: { ...process.env, MOONDREAM_GGML_BINARY: build.path }, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`${stage.label} with ${build.name} failed (exit ${result.status})`);
      const measured = JSON.parse(result.stdout) as ChildResult;
      const values = metrics(measured);
      variants.set(build.name, measured.cpuVariant);
      const byBuild = samples.get(stage.label) ?? new Map<string, Map<string, number[]>>();
      samples.set(stage.label, byBuild);
      const byMetric = byBuild.get(build.name) ?? new Map<string, number[]>();
      byBuild.set(build.name, byMetric);
      for (const [metric, value] of Object.entries(values)) byMetric.set(metric, [...(byMetric.get(metric) ?? []), value]);
    }
  }
}

const report: Record<string, unknown>[] = [];
const lines = [
  `# moondream-ggml builds compared: ${builds.map((b) => `${b.name} (CPU backend ${variants.get(b.name)})`).join(' vs ')}, ${threads} threads, median of ${runs} runs`,
  '',
  `| stage | metric | ${builds.map((b) => `${b.name} median (range)`).join(' | ')} | ${builds.slice(1).map((b) => `${b.name} / ${builds[0]!.name}`).join(' | ')} |`,
  `|---|---|${builds.map(() => '---|').join('')}${builds.slice(1).map(() => '---|').join('')}`,
];
let worst = Infinity;
for (const stage of stages) {
  const byBuild = samples.get(stage.label)!;
  for (const metric of byBuild.get(builds[0]!.name)!.keys()) {
    const medians = builds.map((b) => median(byBuild.get(b.name)!.get(metric)!));
    // Speed ratio: how fast each build is relative to the first (> 1 = faster).
    const ratios = medians.slice(1).map((m) => (higherIsBetter(metric) ? m / medians[0]! : medians[0]! / m));
    worst = Math.min(worst, ...ratios);
    const unit = metric.endsWith('Ms') ? ' s' : '';
    const show = (v: number) => (metric.endsWith('Ms') ? fmt(v / 1000, 3) : fmt(v, 1));
    const ranges = builds.map((b) => byBuild.get(b.name)!.get(metric)!);
    const shown = medians.map((m, i) => `${show(m)} (${show(Math.min(...ranges[i]!))}–${show(Math.max(...ranges[i]!))})`);
    const overlaps = (i: number) => Math.min(...ranges[0]!) <= Math.max(...ranges[i]!) && Math.min(...ranges[i]!) <= Math.max(...ranges[0]!);
    const ratioCells = ratios.map((r, i) => `${fmt(r, 3)}${overlaps(i + 1) ? '' : ' (ranges apart)'}`);
    lines.push(`| ${stage.label} | ${metric.replace(/Ms$/, '')}${unit} | ${shown.join(' | ')} | ${ratioCells.join(' | ')} |`);
    report.push({ stage: stage.label, metric, medians: Object.fromEntries(builds.map((b, i) => [b.name, medians[i]])),
      samples: Object.fromEntries(builds.map((b) => [b.name, byBuild.get(b.name)!.get(metric)])), ratios });
  }
}
lines.push('', `Slowest stage of ${builds.slice(1).map((b) => b.name).join(', ')} relative to ${builds[0]!.name}: ${fmt(worst, 3)}x speed.`);
process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify({ builds, variants: Object.fromEntries(variants), runs, threads, report }, null, 2)}\n` : `${lines.join('\n')}\n`);
