import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Step marks for the overhead bench (bench/overhead.ts): with OTENSOR_TIMING_DIR set, each mark (wall-clock
 * time in ms to the microsecond, and a label) is kept in memory and written to <dir>/<pid>.txt when the
 * process exits, so the router, the node and the bench's client can be lined up on one clock. Unset (always,
 * outside that bench), `mark` does nothing.
 */
const dir = process.env.OTENSOR_TIMING_DIR;
const kept: string[] = [];

export const mark: (label: string) => void = dir
  ? (label) => {
      kept.push(`${(performance.timeOrigin + performance.now()).toFixed(3)} ${label}`);
    }
  : () => {};

if (dir) process.on('exit', () => writeFileSync(join(dir, `${process.pid}.txt`), `${kept.join('\n')}\n`));

/** This process's marks so far, as written at exit (for a bench that reads its own beside others'). */
export function marksSoFar(): readonly string[] {
  return kept;
}
