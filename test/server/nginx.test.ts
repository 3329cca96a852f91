// Scale-out with an existing balancer: two `serve` replicas behind nginx, which hashes on the
// client-sent x-moondream-image-hash (the SHA-256 of the image bytes) with consistent hashing.
// Every second question about an image must be a prefix-cache hit on the replica that answered
// the first; when a replica dies, nginx fails over and every request is still answered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnServe, type ChildServer } from '../helpers/child-server.js';
import { nginxBinary, startNginx, type Nginx } from '../helpers/nginx.js';
import { tempDir } from '../helpers/temp-dir.js';
import { chatBody, imageBytes, metrics, metricValue, sha256 } from '../helpers/tiny-server.js';

const IMAGES = ['smooth_600x450.png', 'grey_240x180.png', 'photo_320x240_q90.jpg', 'text_640x200.png'];
const binary = nginxBinary();
// Made at the top level: tempDir's cleanup hook then runs when the file ends, not after before().
const dir = tempDir('moondream-nginx-');

describe('two replicas behind nginx', { skip: binary === undefined ? 'nginx is not installed (.ci/run installs it)' : false }, () => {
  let replicas: ChildServer[] = [];
  let nginx: Nginx;

  before(async () => {
    replicas = await Promise.all([spawnServe(), spawnServe()]);
    nginx = await startNginx(binary!, dir, replicas.map((r) => r.port));
  });
  after(async () => {
    await nginx?.stop();
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
  });

  async function ask(image: string, question: string) {
    const response = await fetch(`${nginx.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moondream-image-hash': sha256(imageBytes(image)) },
      body: chatBody(question, image, { max_tokens: 3 }),
    });
    assert.equal(response.status, 200, `${await response.clone().text()}\n${nginx.stderr.join('')}`);
    const body = await response.json() as { usage: { prompt_tokens_details: { cached_tokens: number } } };
    assert.equal(response.headers.get('x-moondream-image-hash'), sha256(imageBytes(image)));
    return { upstream: response.headers.get('x-upstream')!, cached: body.usage.prompt_tokens_details.cached_tokens };
  }

  it('sends every follow-up to the replica holding its prefix, and fails over when a replica dies', async () => {
    const first = new Map<string, string>();
    for (const image of IMAGES) {
      const r = await ask(image, 'What is this?');
      assert.equal(r.cached, 0, `${image} was new`);
      first.set(image, r.upstream);
    }
    for (const image of IMAGES) {
      const r = await ask(image, 'What colour is it?');
      assert.equal(r.upstream, first.get(image), `${image} changed replica`);
      assert.equal(r.cached, 733, `${image}: the second question reused the image prefix`);
    }
    const counts = await Promise.all(replicas.map(async (replica) => {
      const m = await metrics(replica.url);
      return {
        port: replica.port,
        hits: metricValue(m, 'moondream_prefix_cache_hits_total') ?? 0,
        misses: metricValue(m, 'moondream_prefix_cache_misses_total') ?? 0,
      };
    }));
    assert.equal(counts.reduce((s, c) => s + c.hits, 0), 4);
    assert.equal(counts.reduce((s, c) => s + c.misses, 0), 4);
    process.stderr.write(`# nginx: ${counts.map((c) => `replica :${c.port} hits ${c.hits} misses ${c.misses}`).join('; ')}\n`);

    // Kill the replica that holds the first image; nginx must route around it.
    const victimPort = Number(first.get(IMAGES[0]!)!.split(':').pop());
    const victim = replicas.find((r) => r.port === victimPort)!;
    await victim.stop('SIGKILL');
    const survivor = replicas.find((r) => r !== victim)!;
    for (const image of IMAGES) {
      const r = await ask(image, 'Still there?');
      assert.equal(Number(r.upstream.split(', ').pop()!.split(':').pop()), survivor.port);
      // Images that were already on the survivor keep their prefix.
      if (first.get(image) !== first.get(IMAGES[0]!)) assert.equal(r.cached, 733);
    }
    process.stderr.write(`# nginx: killed :${victimPort}; all ${IMAGES.length} requests answered by :${survivor.port}\n`);
  });
});
