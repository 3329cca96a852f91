// The batch's progress bar on stderr (cli-progress): done/total, images per minute, ETA. Drawn
// only on a terminal, so logs and pipes stay clean.
import cliProgress from 'cli-progress';
import type { BatchProgress } from './options.js';

export interface BatchBar {
  update(progress: BatchProgress): void;
  stop(): void;
}

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function batchBar(title: string, stream: NodeJS.WriteStream = process.stderr): BatchBar {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({
    stream,
    format: `${title} [{bar}] {value}/{total} | {rate} img/min | ETA {etaText} | {failed} failed, {skipped} skipped`,
    hideCursor: true,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(p) {
      const payload = { rate: p.imagesPerMinute.toFixed(1), etaText: duration(p.etaMs), failed: p.failed, skipped: p.skipped };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
