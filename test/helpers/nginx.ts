// nginx in front of moondream replicas, run as a non-daemon child with its own prefix and
// config in a temporary folder: the README's recipe, with test ports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export function nginxBinary(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The upstream block and proxy settings of the README's recipe. */
export function moondreamNginxHttpBlock(listenPort: number, replicaPorts: readonly number[]): string {
  return `
  upstream moondream {
    # Same image, same replica: its KV prefix is cached there. Consistent hashing moves only the
    # images of a replica that leaves or joins.
    hash $http_x_moondream_image_hash consistent;
${replicaPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${listenPort};
    client_max_body_size 20m;
    location / {
      proxy_pass http://moondream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;           # stream SSE / NDJSON pieces as they come
      proxy_read_timeout 600s;
      proxy_next_upstream error timeout http_502 http_503;
      add_header X-Upstream $upstream_addr always;
    }
  }`;
}

export interface Nginx {
  url: string;
  proc: ChildProcess;
  stderr: string[];
  stop(): Promise<void>;
}

export async function startNginx(binary: string, dir: string, replicaPorts: readonly number[]): Promise<Nginx> {
  const port = await freePort();
  for (const sub of ['logs', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  const tmp = join(dir, 'tmp');
  writeFileSync(conf, `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
${moondreamNginxHttpBlock(port, replicaPorts)}
}
`);
  const proc = spawn(binary, ['-p', dir, '-c', conf, '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (text: string) => stderr.push(text));
  const reap = () => proc.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr.join('')}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 200) throw new Error(`nginx did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, proc, stderr,
    stop: async () => {
      process.off('exit', reap);
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}
