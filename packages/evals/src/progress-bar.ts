/** Where a progress bar draws: a terminal redraws one line; anything else gets a line per file. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** A one-line download progress bar: `name [#####-----]  52%  12.3 MB / 23.6 MB  4.1 MB/s`. */
export function createProgressBar(stream: ProgressStream, label: string, width = 24) {
  const started = performance.now();
  let lastDraw = 0;
  const line = (received: number, total: number | undefined) => {
    const seconds = Math.max((performance.now() - started) / 1000, 0.001);
    const speed = `${megabytes(received / seconds)}/s`;
    if (total === undefined || total <= 0) return `${label}  ${megabytes(received)}  ${speed}`;
    const fraction = Math.min(1, received / total);
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    return `${label}  [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${megabytes(received)} / ${megabytes(total)}  ${speed}`;
  };
  return {
    /** Redraws (at most every 100 ms on a terminal). */
    update(received: number, total: number | undefined) {
      if (!stream.isTTY) return;
      const now = performance.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      stream.write(`\r${line(received, total)}\u001b[K`);
    },
    /** Draws the final state and ends the line. */
    finish(received: number, total: number | undefined, note = '') {
      stream.write(
        `${stream.isTTY ? '\r' : ''}${line(received, total)}${note ? `  ${note}` : ''}${stream.isTTY ? '\u001b[K' : ''}\n`,
      );
    },
  };
}
