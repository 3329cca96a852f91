// A progress bar on stderr when it is a terminal; otherwise nothing (logs stay clean).

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  finish(message?: string): void;
}

export function progressBar(title: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) {
    return { update: () => undefined, finish: (message) => { if (message) stream.write(`${message}\n`); } };
  }
  const started = Date.now();
  let lastDraw = 0;
  return {
    update(done, total, label = '') {
      const now = Date.now();
      if (now - lastDraw < 80 && done < total) return;  // redraw at most ~12 times a second
      lastDraw = now;
      const width = 30;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * width);
      const seconds = ((now - started) / 1000).toFixed(1);
      const columns = stream.columns ?? 100;
      const line = `${title} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${seconds}s ${label}`;
      stream.write(`\r${line.slice(0, columns - 1).padEnd(Math.min(columns - 1, line.length))}\x1b[K`);
    },
    finish(message) {
      stream.write(`\r\x1b[K${message ? `${message}\n` : ''}`);
    },
  };
}
