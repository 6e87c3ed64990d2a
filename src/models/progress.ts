import type { DownloadProgress } from './download.js';

export type ProgressBar = { update(progress: DownloadProgress): void; done(): void };

const units = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 -> '1.5 KB'. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A download progress bar (bytes, rate, ETA). On a terminal it redraws one line; elsewhere (logs, tests) it
 * writes a line every few seconds and one at the end, so captured output stays short.
 */
export function downloadProgressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  options: { interval?: number } = {},
): ProgressBar {
  const tty = stream.isTTY === true;
  const interval = options.interval ?? (tty ? 100 : 2000);
  let start = performance.now();
  let startBytes = -1;
  let last = 0;
  let latest: DownloadProgress | undefined;
  const render = (final: boolean): string => {
    if (!latest) return '';
    const { received, total } = latest;
    const seconds = (performance.now() - start) / 1000;
    const rate = seconds > 0 ? (received - startBytes) / seconds : 0;
    const width = 24;
    const share = total ? Math.min(1, received / total) : 0;
    const bar = total ? `[${'#'.repeat(Math.round(share * width)).padEnd(width, '-')}] ` : '';
    const percent = total ? `${(share * 100).toFixed(0).padStart(3)}% ` : '';
    const size = total ? `${formatBytes(received)}/${formatBytes(total)}` : formatBytes(received);
    const eta = final
      ? ` in ${formatSeconds(seconds)}`
      : total && rate > 0
        ? ` ETA ${formatSeconds((total - received) / rate)}`
        : '';
    return `${label} ${bar}${percent}${size} ${formatBytes(rate)}/s${eta}`;
  };
  return {
    update(progress) {
      // Rate and ETA count only this run's bytes, not those a resumed partial file already held.
      if (startBytes < 0 || progress.received < startBytes) {
        startBytes = progress.received;
        start = performance.now();
      }
      latest = progress;
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      stream.write(tty ? `\r${render(false)}\u001b[K` : `${render(false)}\n`);
    },
    done() {
      if (latest) stream.write(tty ? `\r${render(true)}\u001b[K\n` : `${render(true)}\n`);
    },
  };
}
