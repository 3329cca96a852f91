// Our AVX-512 VNNI matmul for q8_0 and q4_0 weights (native/src/vnni_matrix.cpp) against ggml's
// own mul_mat of the same quantized weight and the same activations: the same arithmetic
// (activations quantized to q8_0 alike, exact integer block dots, per-block scales), so the
// results agree to float summation order. Shapes cover the model's (k a multiple of 32 up to
// 8192, n a multiple of 16, the 4304-wide vision MLP) and every column-tile width: 1 (decode),
// 2..8 and remainders of 8, and prefill's shared path, on AMX tiles where the CPU has them
// (amx_matrix.cpp), which must give the VNNI kernel's results bit for bit. On a CPU without AVX-512
// VNNI (or under MOONDREAM_CPU_LEVEL below avx512) the checks run on the AVX2 kernels
// (avx2_int8.cpp: the same tiles; q4_0 in the VNNI kernels' arithmetic, q8_0 in ggml's AVX2 order,
// so there it equals ggml's products exactly); below AVX2 no kernel of ours is used, and the skip
// says why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon } from '../../src/binding.js';
import { GGML_TYPES, Moondream, ggmlInfo } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const SHAPES: [k: number, n: number, m: number][] = [
  [64, 16, 1], [64, 192, 2], [96, 48, 3], [256, 64, 5], [64, 192, 7], [2048, 64, 8], [2048, 64, 9], [8192, 32, 3],
  [1152, 4304, 17], [96, 48, 256],
  // Decode's single row over many blocks (q4_0 has a kernel of its own for it): 64 and 256 blocks.
  [2048, 64, 1], [8192, 32, 1],
  // Decode's groups of 4 tiles, with tiles left over in a thread's share (27 and 65 tiles over 2
  // threads) and a thread done early taking over the other's last tiles.
  [2048, 432, 1], [8192, 256, 1], [256, 1040, 1],
  // Prefill's shared path (n a multiple of 32, 16 rows or more), which runs on AMX tiles where the
  // CPU has them: whole and partial 32-row tile pairs, and rows split into chunks (large k).
  [64, 32, 16], [2048, 96, 40], [8192, 64, 100], [64, 32, 300], [4096, 128, 512],
];

/** Why neither kernel runs here: no AVX2, or MOONDREAM_CPU_LEVEL below avx2. */
const notHere = () => `not used here: ${ggmlInfo().kernels.find((k) => k.name === 'int8_matrix_avx2')?.reason ?? 'no reason given'}`;

/** Whether the AVX2 kernels run rather than the VNNI ones. */
const avx2Only = () => ggmlInfo().kernels.find((k) => k.name === 'int8_matrix_avx2')?.chosen === true;

const amxChosen = () => ggmlInfo().kernels.find((k) => k.name === 'amx_matrix')?.chosen === true;

describe('the VNNI matmul kernel computes ggml\'s q8_0 and q4_0 products', () => {
  for (const type of ['q8_0', 'q4_0'] as const) {
    it(`${type}: within 2e-6 of ggml's mul_mat on ${SHAPES.length} shapes (k x n weight, m activation rows)`, (t) => {
      for (const [k, n, m] of SHAPES) {
        const check = addon().vnniMatrixCheck(GGML_TYPES[type].id, k, n, m, k * 31 + n * 7 + m, 2);
        if (!check.supported) {
          t.skip(notHere());
          return;
        }
        assert.ok(check.maxRelativeDifference < 2e-6, `${k}x${n}, ${m} rows: ${check.maxRelativeDifference}`);
        // The AVX2 q8_0 kernel keeps ggml's 8 partial sums per output and adds them as ggml does.
        if (type === 'q8_0' && avx2Only()) assert.equal(check.maxRelativeDifference, 0, `${k}x${n}, ${m} rows`);
        // Prefill's shared path takes the AMX tiles wherever that kernel is chosen.
        assert.equal(check.onAmxTiles, amxChosen() && m >= 16 && n % 32 === 0, `${k}x${n}, ${m} rows on AMX tiles`);
      }
    });
  }

  it('is what a loaded q8_0 or q4_0 model multiplies with; vnniKernel: false or MOONDREAM_DISABLE_VNNI_MATRIX=1 turns it off', async (t) => {
    if (!addon().vnniMatrixCheck(GGML_TYPES.q4_0.id, 64, 16, 1, 1, 1).supported) {
      t.skip(notHere());
      return;
    }
    for (const type of ['q8_0', 'q4_0'] as const) {
      const { textPath } = await tinyPair(type);
      const ours = await Moondream.load({ text: textPath });
      const byOption = await Moondream.load({ text: textPath }, { vnniKernel: false });
      process.env.MOONDREAM_DISABLE_VNNI_MATRIX = '1';
      // The environment overrides the option: a deployment can rule the kernel out.
      const byEnv = await Moondream.load({ text: textPath }, { vnniKernel: true }).finally(() => delete process.env.MOONDREAM_DISABLE_VNNI_MATRIX);
      try {
        // Packed bytes are counted in repackedBytes; ggml has no x86 repack for q8_0 at all, and
        // what ggml repacks for q4_0 is smaller than our tiles (which keep a scale per 16 rows).
        assert.ok(ours.info.repackedBytes > 0, type);
        for (const ggml of [byOption, byEnv]) {
          if (type === 'q8_0') assert.equal(ggml.info.repackedBytes, 0);
          // (Where only AVX2 runs, ggml's q4_0 repack can come out the same size as our tiles.)
          else if (!avx2Only()) assert.notEqual(ggml.info.repackedBytes, ours.info.repackedBytes);
        }
        assert.equal(byOption.info.repackedBytes, byEnv.info.repackedBytes);
      } finally {
        ours.dispose();
        byOption.dispose();
        byEnv.dispose();
      }
    }
  });

  it('on AMX tiles, where the CPU has AMX-INT8, gives a prompt the VNNI kernel\'s logits bit for bit', async (t) => {
    const amx = ggmlInfo().kernels.find((k) => k.name === 'amx_matrix');
    if (!amxChosen()) {
      t.skip(`not used here: ${amx?.reason ?? 'no reason given'}`);
      return;
    }
    // 24 positions: the prompt's products take the AMX path (16 rows or more), as the tiny model's
    // shapes (k 128, n 384) do in the self-check; with the variable set at load, they do not.
    assert.equal(addon().vnniMatrixCheck(GGML_TYPES.q8_0.id, 128, 384, 24, 1, 2).onAmxTiles, true);
    process.env.MOONDREAM_DISABLE_AMX_MATRIX = '1';
    try {
      assert.equal(addon().vnniMatrixCheck(GGML_TYPES.q8_0.id, 128, 384, 24, 1, 2).onAmxTiles, false);
    } finally {
      delete process.env.MOONDREAM_DISABLE_AMX_MATRIX;
    }
    const tokens = [50256, 27, 9060, 29, 1867, 318, 262, 3290, 30, 198, 50, 262, 1110, 318, 257, 1402, 11, 290, 262, 6766, 318, 4171, 13, 198];
    for (const type of ['q8_0', 'q4_0'] as const) {
      const { textPath } = await tinyPair(type);
      const onTiles = await Moondream.load({ text: textPath }, { threads: 2 });
      process.env.MOONDREAM_DISABLE_AMX_MATRIX = '1';
      const onVnni = await Moondream.load({ text: textPath }, { threads: 2 }).finally(() => delete process.env.MOONDREAM_DISABLE_AMX_MATRIX);
      try {
        const a = await onTiles.evaluate(tokens);
        const b = await onVnni.evaluate(tokens);
        assert.deepEqual(Array.from(a), Array.from(b), type);
      } finally {
        onTiles.dispose();
        onVnni.dispose();
      }
    }
  });

  it('stores the MLP\'s GELU as it multiplies: the logits of a separate GELU op (MOONDREAM_DISABLE_FUSED_GELU=1) bit for bit', async (t) => {
    // The GELU table and the fused stores are AVX-512 code; the AVX2 kernels store plain sums.
    const table = ggmlInfo().kernels.find((k) => k.name === 'gelu_table');
    if (!addon().vnniMatrixCheck(GGML_TYPES.q8_0.id, 64, 16, 1, 1, 1).supported || table?.chosen !== true) {
      t.skip(`not used here: ${table?.reason ?? 'no reason given'}`);
      return;
    }
    // A prompt (the tile kernels, or AMX tiles where the CPU has them, which keep the GELU op)
    // and one position (the decode kernel).
    const prompt = [50256, 27, 9060, 29, 1867, 318, 262, 3290, 30, 198, 50, 262, 1110, 318, 257, 1402, 11, 290, 262, 6766, 318, 4171, 13, 198];
    for (const type of ['q8_0', 'q4_0'] as const) {
      const { textPath } = await tinyPair(type);
      const fused = await Moondream.load({ text: textPath }, { threads: 2, profileOps: true });
      const separate = await Moondream.load({ text: textPath }, { threads: 2, profileOps: true });
      try {
        for (const tokens of [prompt, [50256]]) {
          const a = await fused.evaluate(tokens);
          process.env.MOONDREAM_DISABLE_FUSED_GELU = '1';
          const b = await separate.evaluate(tokens).finally(() => delete process.env.MOONDREAM_DISABLE_FUSED_GELU);
          assert.deepEqual(Array.from(a), Array.from(b), `${type}, ${tokens.length} positions`);
        }
        const opsOf = (md: Moondream) => new Set(md.takeOpProfile().map((op) => op.op));
        const fusedOps = opsOf(fused);
        const separateOps = opsOf(separate);
        assert.ok(fusedOps.has('vnni_matvec_gelu'), [...fusedOps].join(', '));
        assert.ok(separateOps.has('gelu_table') && !separateOps.has('vnni_matvec_gelu'), [...separateOps].join(', '));
        if (!amxChosen()) assert.ok(fusedOps.has('vnni_matmul_gelu') && !fusedOps.has('gelu_table'), [...fusedOps].join(', '));
      } finally {
        fused.dispose();
        separate.dispose();
      }
    }
  });

  it('decode gives every tile the same arithmetic however its tiles are grouped and shared out between threads', (t) => {
    // A decode row takes tiles 4 at a time and a share's leftovers one at a time, and a thread
    // that finishes early takes over the other's last tiles: with 1, 2 and 3 threads different
    // tiles go each way, and ggml's own product does not depend on its thread count, so equal
    // differences to it say the kernels agree bit for bit (or err alike to the last bit).
    for (const type of ['q8_0', 'q4_0'] as const) {
      for (const [k, n] of [[2048, 432], [256, 1040]] as const) {
        const seed = k + n;
        const one = addon().vnniMatrixCheck(GGML_TYPES[type].id, k, n, 1, seed, 1);
        if (!one.supported) {
          t.skip(notHere());
          return;
        }
        for (const threads of [2, 3]) {
          const check = addon().vnniMatrixCheck(GGML_TYPES[type].id, k, n, 1, seed, threads);
          assert.equal(check.maxRelativeDifference, one.maxRelativeDifference, `${type} ${k}x${n}, ${threads} threads`);
        }
      }
    }
  });

  it('rejects what it cannot check with a typed error', () => {
    assert.throws(() => addon().vnniMatrixCheck(GGML_TYPES.f16.id, 64, 16, 1, 1, 1), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => addon().vnniMatrixCheck(GGML_TYPES.q8_0.id, 0, 16, 1, 1, 1), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => addon().vnniMatrixCheck(GGML_TYPES.q8_0.id, 48, 16, 1, 1, 1), { code: 'ERR_INVALID_ARGUMENT' });  // k not a multiple of 32
    assert.throws(() => addon().vnniMatrixCheck(GGML_TYPES.q4_0.id, 64, 24, 1, 1, 1), { code: 'ERR_INVALID_ARGUMENT' });  // n not a multiple of 16
  });
});

describe('where matmul weights live: the repackWeights and vnniKernel load options', () => {
  it('repackWeights: false (or MOONDREAM_DISABLE_REPACK=1) keeps every weight mapped as stored, with the same logits', async () => {
    const { textPath } = await tinyPair('q4_0');
    const tokens = [50256, 27, 9060, 29, 1867];
    const mapped = await Moondream.load({ text: textPath }, { repackWeights: false, vnniKernel: false, threads: 2 });
    process.env.MOONDREAM_DISABLE_REPACK = '1';
    const byEnv = await Moondream.load({ text: textPath }, { repackWeights: true, vnniKernel: false, threads: 2 })
      .finally(() => delete process.env.MOONDREAM_DISABLE_REPACK);
    const repacked = await Moondream.load({ text: textPath }, { vnniKernel: false, threads: 2 });
    try {
      assert.equal(mapped.info.repackedBytes, 0);
      assert.equal(byEnv.info.repackedBytes, 0);
      // ggml repacks q4_0 where it has a kernel for the layout (x86 with AVX2, arm64 with dotprod/i8mm).
      if (repacked.info.repackedBytes === 0) return;
      const a = await mapped.evaluate(tokens);
      const b = await repacked.evaluate(tokens);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
      }
      // Same quantized arithmetic, other summation order.
      assert.ok(maxDiff / maxAbs < 1e-4, `repacked and mapped q4_0 differ by ${maxDiff / maxAbs}`);
    } finally {
      mapped.dispose();
      byEnv.dispose();
      repacked.dispose();
    }
  });

  it('are validated in TypeScript', async () => {
    const { textPath } = await tinyPair('q4_0');
    await assert.rejects(Moondream.load({ text: textPath }, { repackWeights: 'no' as unknown as boolean }),
      { code: 'ERR_INVALID_ARGUMENT', message: /Expected a boolean for options\.repackWeights but received/ });
    await assert.rejects(Moondream.load({ text: textPath }, { vnniKernel: 0 as unknown as boolean }),
      { code: 'ERR_INVALID_ARGUMENT', message: /Expected a boolean for options\.vnniKernel but received/ });
  });
});
