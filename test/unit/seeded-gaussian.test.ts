// The generator's random numbers: reproducible per (seed, name), independent of chunking, N(0, 1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GaussianStream, streamState } from '../../scripts/lib/seeded-gaussian.js';

function draw(seed: number, name: string, count: number, chunk = count): Float32Array {
  const stream = new GaussianStream(seed, name);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += chunk) stream.fill(out.subarray(i, Math.min(count, i + chunk)), 0, 1);
  return out;
}

describe('seeded Gaussian streams', () => {
  it('depend on the seed and the name, and on nothing else', () => {
    assert.deepEqual(draw(1, 'a.weight', 100), draw(1, 'a.weight', 100));
    assert.notDeepEqual(draw(1, 'a.weight', 100), draw(2, 'a.weight', 100));
    assert.notDeepEqual(draw(1, 'a.weight', 100), draw(1, 'a.bias', 100));
    assert.notDeepEqual(streamState(2 ** 32, 'x'), streamState(0, 'x')); // the seed's high bits count
    assert.notDeepEqual(streamState(0, 'blocks.1'), streamState(0, 'blocks.10'));
  });

  it('give the same values whatever the chunking, odd chunks included', () => {
    const whole = draw(7, 't', 1001);
    assert.deepEqual(draw(7, 't', 1001, 1), whole);
    assert.deepEqual(draw(7, 't', 1001, 3), whole);
    assert.deepEqual(draw(7, 't', 1001, 64), whole);
  });

  it('are standard normal: mean 0, variance 1, tails of a Gaussian', () => {
    const values = draw(3, 'stats', 200_000);
    let sum = 0;
    let squares = 0;
    let beyondTwo = 0;
    for (const v of values) {
      sum += v;
      squares += v * v;
      if (Math.abs(v) > 2) beyondTwo += 1;
    }
    const mean = sum / values.length;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(squares / values.length - 1) < 0.02, `variance ${squares / values.length}`);
    assert.ok(Math.abs(beyondTwo / values.length - 0.0455) < 0.003, `P(|z| > 2) = ${beyondTwo / values.length}`);
  });
});
