// Which ggml CPU backend and which of our kernels a process chooses (native/src/cpu_backend_loader.cpp,
// cpu_level.cpp and our own kernels: vnni_matrix, int8_matrix_avx2, amx_matrix, f16_matrix, f16_matrix_avx2, bf16_matrix, vision_attention, vision_attention_avx2,
// decode_attention, decode_attention_avx2, prefill_attention, prefill_attention_avx2, gelu_table), checked against what /proc/cpuinfo says this CPU has, in
// this process and in children with MOONDREAM_CPU_LEVEL set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { platformPackageName } from '../../src/addon-location.js';
import { ggmlInfo, type GgmlInfo } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const indexJs = fileURLToPath(new URL('../../src/index.js', import.meta.url));
const platformScript = fileURLToPath(new URL('../../../scripts/platform-package.mjs', import.meta.url));

// The CPU's flags as the kernel reports them: an independent path from CPUID in the addon.
const flags = new Set(existsSync('/proc/cpuinfo')
  ? (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/)
  : []);
// What each of our kernels is compiled for (target attributes), the MOONDREAM_CPU_LEVEL it needs
// (avx512 unless named), the variable that turns it off, and the kernel it stands in for (it runs
// only where that one does not, whatever the variable says).
const KERNELS: { name: string; needs: string[]; disable: string; level?: string; insteadOf?: string }[] = [
  { name: 'vnni_matrix', needs: ['avx512f', 'avx512bw', 'avx512_vnni'], disable: 'MOONDREAM_DISABLE_VNNI_MATRIX' },
  { name: 'int8_matrix_avx2', needs: ['avx2', 'fma', 'f16c'], disable: 'MOONDREAM_DISABLE_VNNI_MATRIX', level: 'avx2', insteadOf: 'vnni_matrix' },
  { name: 'amx_matrix', needs: ['amx_tile', 'amx_int8', 'avx512f', 'avx512bw', 'avx512vl'], disable: 'MOONDREAM_DISABLE_AMX_MATRIX', level: 'amx' },
  { name: 'f16_matrix', needs: ['avx512f', 'avx512bw', 'avx512vl'], disable: 'MOONDREAM_DISABLE_F16_MATRIX' },
  { name: 'f16_matrix_avx2', needs: ['avx2', 'fma', 'f16c'], disable: 'MOONDREAM_DISABLE_F16_MATRIX', level: 'avx2', insteadOf: 'f16_matrix' },
  { name: 'bf16_matrix', needs: ['avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16'], disable: 'MOONDREAM_DISABLE_BF16_MATRIX' },
  { name: 'vision_attention', needs: ['avx512f', 'avx512bw', 'avx512vl'], disable: 'MOONDREAM_DISABLE_VISION_ATTENTION' },
  { name: 'vision_attention_avx2', needs: ['avx2', 'fma', 'f16c'], disable: 'MOONDREAM_DISABLE_VISION_ATTENTION', level: 'avx2', insteadOf: 'vision_attention' },
  { name: 'decode_attention', needs: ['avx512f'], disable: 'MOONDREAM_DISABLE_DECODE_ATTENTION' },
  { name: 'decode_attention_avx2', needs: ['avx2', 'fma', 'f16c'], disable: 'MOONDREAM_DISABLE_DECODE_ATTENTION', level: 'avx2', insteadOf: 'decode_attention' },
  { name: 'prefill_attention', needs: ['avx512f', 'avx512bw', 'avx512vl'], disable: 'MOONDREAM_DISABLE_PREFILL_ATTENTION' },
  { name: 'prefill_attention_avx2', needs: ['avx2', 'fma', 'f16c'], disable: 'MOONDREAM_DISABLE_PREFILL_ATTENTION', level: 'avx2', insteadOf: 'prefill_attention' },
  { name: 'gelu_table', needs: ['avx512f', 'avx512bw', 'avx512vl'], disable: 'MOONDREAM_DISABLE_GELU_TABLE' },
];
const hasAvx2 = ['avx2', 'fma', 'f16c', 'bmi2'].every((f) => flags.has(f));
const LEVELS = ['x64', 'sse42', 'avx', 'avx2', 'avx_vnni', 'avx512', 'amx'];

function infoWith(level: string, textPath?: string): { info?: GgmlInfo; load?: { code: string; message: string } } {
  const script = `import(${JSON.stringify(indexJs)}).then(async (m) => {
    const info = m.ggmlInfo();
    let load;
    const text = ${JSON.stringify(textPath ?? null)};
    if (text) try { (await m.Moondream.load({ text })).dispose(); } catch (e) { load = { code: e.code, message: e.message }; }
    console.log(JSON.stringify({ info, load }));
  });`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, MOONDREAM_CPU_LEVEL: level }, encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { info?: GgmlInfo; load?: { code: string; message: string } };
}

function levelIndex(level: string): number {
  return level === '' ? LEVELS.length - 1 : LEVELS.indexOf(level);
}

describe('the CPU backend of this process', () => {
  const info = ggmlInfo();
  const cap = process.env.MOONDREAM_CPU_LEVEL ?? '';

  it('is loaded, with a variant and a reason', () => {
    assert.equal(info.cpuBackend.error, undefined);
    assert.equal(info.cpuBackend.cpuLevel, cap === 'auto' ? '' : cap);
    assert.ok(info.cpuBackend.reason.length > 0);
    if (!info.cpuBackend.runtimeSelected) {
      assert.equal(info.cpuBackend.variant, 'native');
      assert.deepEqual(info.cpuBackend.candidates, []);
    }
  });

  it('in a portable build, is the highest-scoring variant this CPU runs within the cap', (t) => {
    const backend = info.cpuBackend;
    if (!backend.runtimeSelected) {
      t.skip('a native build has its CPU backend built in');
      return;
    }
    const chosen = backend.candidates.filter((c) => c.verdict === 'chosen');
    assert.equal(chosen.length, 1);
    assert.equal(chosen[0]!.name, backend.variant);
    assert.equal(chosen[0]!.file, backend.file);
    for (const c of backend.candidates) {
      if (c.score === 0) assert.equal(c.verdict, 'not supported by this CPU', c.name);
      if (c.verdict === 'runs here, lower score') assert.ok(c.score <= chosen[0]!.score, c.name);
    }
    // Every x86 variant ggml builds is there; x64 runs everywhere.
    if (process.arch === 'x64') {
      const names = backend.candidates.map((c) => c.name);
      for (const name of ['x64', 'sse42', 'haswell', 'skylakex', 'icelake', 'zen4', 'sapphirerapids']) assert.ok(names.includes(name), name);
      assert.ok(backend.candidates.find((c) => c.name === 'x64')!.score > 0);
      if (cap === '' && hasAvx2) assert.notEqual(backend.variant, 'x64');
    }
  });

  it('uses each of our kernels exactly when the CPU has what it needs, the cap allows its level and it is not disabled', () => {
    assert.deepEqual(info.kernels.map((k) => k.name), KERNELS.map((k) => k.name));
    const runsHere = (kernel: typeof KERNELS[number]) => process.arch === 'x64' && kernel.needs.every((f) => flags.has(f)) &&
      levelIndex(cap) >= LEVELS.indexOf(kernel.level ?? 'avx512');
    for (const kernel of KERNELS) {
      const report: GgmlInfo['kernels'][number] = info.kernels.find((k) => k.name === kernel.name)!;
      const preferred = KERNELS.find((k) => k.name === kernel.insteadOf);
      const expected = runsHere(kernel) && process.env[kernel.disable] === undefined && !(preferred !== undefined && runsHere(preferred));
      assert.equal(report.chosen, expected, `${kernel.name}: ${report.reason}`);
    }
  });
});

describe('MOONDREAM_CPU_LEVEL', () => {
  it('avx2 turns all our AVX-512 kernels off, our AVX2 int8 kernels on, and, in a portable build, loads the AVX2 variant without AVX-512', () => {
    const { info } = infoWith('avx2');
    assert.ok(info);
    assert.equal(info.cpuBackend.cpuLevel, 'avx2');
    for (const kernel of KERNELS) {
      const report: GgmlInfo['kernels'][number] = info.kernels.find((k) => k.name === kernel.name)!;
      const has = process.arch === 'x64' && kernel.needs.every((f) => flags.has(f));
      if (kernel.level === 'avx2') {
        assert.equal(report.chosen, has && process.env[kernel.disable] === undefined, `${kernel.name}: ${report.reason}`);
        continue;
      }
      assert.equal(report.chosen, false, kernel.name);
      if (has) assert.match(report.reason, new RegExp(`MOONDREAM_CPU_LEVEL=avx2 is below ${kernel.level ?? 'avx512'}`), kernel.name);
    }
    if (info.cpuBackend.runtimeSelected && hasAvx2) {
      assert.equal(info.cpuBackend.variant, 'haswell');
      assert.equal(info.cpuFeatures.AVX2, true);
      assert.equal(info.cpuFeatures.AVX512, false);
      for (const c of info.cpuBackend.candidates) {
        if (['skylakex', 'icelake', 'zen4', 'sapphirerapids', 'alderlake'].includes(c.name) && c.score > 0) {
          assert.equal(c.verdict, 'above MOONDREAM_CPU_LEVEL=avx2', c.name);
        }
      }
    }
  });

  it('avx turns our AVX2 kernels off too', () => {
    const { info } = infoWith('avx');
    assert.ok(info);
    for (const name of ['int8_matrix_avx2', 'f16_matrix_avx2', 'vision_attention_avx2', 'decode_attention_avx2', 'prefill_attention_avx2']) {
      const report: GgmlInfo['kernels'][number] = info.kernels.find((k) => k.name === name)!;
      assert.equal(report.chosen, false, name);
      if (hasAvx2) assert.match(report.reason, /MOONDREAM_CPU_LEVEL=avx is below avx2/, name);
    }
  });

  it('avx512 keeps the AVX-512 kernels and turns the AMX one off', () => {
    const { info } = infoWith('avx512');
    assert.ok(info);
    for (const kernel of KERNELS) {
      const report: GgmlInfo['kernels'][number] = info.kernels.find((k) => k.name === kernel.name)!;
      const has = process.arch === 'x64' && kernel.needs.every((f) => flags.has(f)) && process.env[kernel.disable] === undefined;
      if (kernel.insteadOf !== undefined) continue;  // as in this process: where the AVX-512 one runs, it does not
      assert.equal(report.chosen, has && kernel.level !== 'amx', `${kernel.name}: ${report.reason}`);
      if (has && kernel.level === 'amx') assert.match(report.reason, /MOONDREAM_CPU_LEVEL=avx512 is below amx/);
    }
  });

  it('x64 loads the baseline variant in a portable build', (t) => {
    const { info } = infoWith('x64');
    assert.ok(info);
    if (!info.cpuBackend.runtimeSelected) {
      t.skip('a native build has its CPU backend built in');
      return;
    }
    assert.equal(info.cpuBackend.variant, 'x64');
    assert.equal(info.cpuFeatures.AVX, false);
  });

  it('anything else is refused with the accepted values, and no model loads', async () => {
    const { info, load } = infoWith('avx3', (await tinyPair('q8_0')).textPath);
    assert.ok(info);
    assert.equal(info.cpuBackend.error?.code, 'ERR_INVALID_ARGUMENT');
    assert.equal(info.cpuBackend.error?.message,
      'Expected auto, x64, sse42, avx, avx2, avx_vnni, avx512, amx for MOONDREAM_CPU_LEVEL but received "avx3"');
    assert.equal(load?.code, 'ERR_INVALID_ARGUMENT');
    assert.match(load?.message ?? '', /MOONDREAM_CPU_LEVEL but received "avx3"/);
  });
});

describe('the platform package name', () => {
  it('is the same for the install scripts and the run-time loader', async () => {
    const scripts = (await import(platformScript)) as { platformPackageName(): string };
    assert.equal(scripts.platformPackageName(), platformPackageName());
    if (process.platform === 'linux' && process.arch === 'x64') assert.match(platformPackageName(), /^@moondream-ggml\/linux-x64-(gnu|musl)$/);
  });
});
