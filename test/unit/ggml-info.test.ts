import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { addon } from '../../src/binding.js';
import { GGML_TYPES, ggmlInfo, probeMachine } from '../../src/index.js';

const pin = JSON.parse(readFileSync(new URL('../../../vendor/ggml.pin.json', import.meta.url), 'utf8')) as {
  llamaCppCommit: string; ggmlVersion: string;
};

describe('ggmlInfo()', () => {
  const info = ggmlInfo();

  it('reports the pinned ggml commit and version', () => {
    assert.equal(info.ggmlCommit, pin.llamaCppCommit);
    assert.equal(info.ggmlVersion, pin.ggmlVersion);
  });

  it('reports the CPU features ggml detects, as booleans', () => {
    for (const name of ['AVX', 'AVX2', 'FMA', 'F16C', 'AVX512', 'NEON']) {
      assert.equal(typeof info.cpuFeatures[name], 'boolean', name);
    }
    if (process.arch === 'x64') assert.equal(info.cpuFeatures.SSE3, true);
  });

  it('says which addon file is loaded and where it came from', () => {
    assert.ok(info.addon.path.endsWith('moondream_ggml.node'), info.addon.path);
    if (process.env.MOONDREAM_GGML_BINARY) assert.equal(info.addon.origin, 'MOONDREAM_GGML_BINARY');
    else assert.match(info.addon.origin, /^(source build|@moondream-ggml\/.+@.+)$/);
  });

  it('defaults to one thread per physical core', () => {
    assert.ok(Number.isInteger(info.defaultThreads) && info.defaultThreads >= 1);
    assert.equal(info.defaultThreads, info.physicalCores);
    assert.ok(info.physicalCores <= info.logicalCpus);
  });
});

describe('probeMachine()', () => {
  it('measures read bandwidth, fp32 FMA and int8 peaks in physically plausible ranges', async () => {
    const probe = await probeMachine({ threads: 1, readBytes: 64 * 2 ** 20 });
    assert.equal(probe.threads, 1);
    // One thread of any machine this runs on: 1 GB/s .. 1 TB/s, 1 GFLOP/s .. 10 TFLOP/s.
    assert.ok(probe.readBytesPerSecond > 1e9 && probe.readBytesPerSecond < 1e12, String(probe.readBytesPerSecond));
    assert.ok(probe.fp32FlopsPerSecond > 1e9 && probe.fp32FlopsPerSecond < 1e13, String(probe.fp32FlopsPerSecond));
    if (process.arch === 'x64') {
      assert.match(probe.fp32Isa, /FMA|SIMD/);
      assert.ok(probe.int8OpsPerSecond > 1e9, `${probe.int8Isa}: ${probe.int8OpsPerSecond}`);
    }
  });

  it('rejects thread counts and read sizes it cannot use, before any work', async () => {
    await assert.rejects(probeMachine({ threads: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(probeMachine({ threads: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(probeMachine({ readBytes: 1024 }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('the GGUF writer type table', () => {
  it('agrees with ggml on id, block size and bytes per block for every type it writes', () => {
    const native = new Map(addon().ggmlTypeTraits().map((t) => [t.name, t]));
    for (const [name, ours] of Object.entries(GGML_TYPES)) {
      const theirs = native.get(name);
      assert.ok(theirs, `ggml has no type named ${name}`);
      assert.deepEqual({ id: theirs.id, blockSize: theirs.blockSize, typeSize: theirs.typeSize }, ours, name);
    }
  });
});
