import { execFile } from 'node:child_process';
import { availableParallelism, cpus, platform, totalmem } from 'node:os';
import type { Engine } from '../engine/index.js';
import type { Hardware } from '../protocol/index.js';

type Gpu = Hardware['gpus'][number];

/** Figures from `nvidia-smi` where it exists; an empty list when it does not (the usual case on CPU boxes). */
export function nvidiaSmi(timeoutMs = 3000): Promise<Gpu[]> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total,utilization.gpu', '--format=csv,noheader,nounits'],
      { timeout: timeoutMs },
      (error, stdout) => {
        if (error) return resolve([]);
        const gpus = stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [name = 'NVIDIA GPU', memoryMiB = '0'] = line.split(',').map((s) => s.trim());
            // Fields read "[N/A]" on some boards; a GPU with unknown memory still counts.
            const mib = Number(memoryMiB);
            return { type: 'cuda', name, vramBytes: Number.isFinite(mib) ? mib * 1024 * 1024 : 0 };
          });
        resolve(gpus);
      },
    );
  });
}

/** What this machine offers: CPU, memory, GPUs as the engine and nvidia-smi see them, and its node type. */
export async function probeHardware(engine: Engine, threads: number): Promise<Hardware> {
  const [described, smi] = await Promise.all([engine.describeGpus(), nvidiaSmi()]);
  const gpus: Gpu[] =
    smi.length > 0
      ? smi
      : described.names.map((name) => ({
          type: described.type,
          name,
          vramBytes: described.names.length ? Math.floor(described.vramBytes / described.names.length) : 0,
        }));
  const nodeType =
    platform() === 'darwin' && described.type === 'metal'
      ? 'apple'
      : gpus.length > 0 && described.type !== 'cpu'
        ? 'desktop-gpu'
        : 'cpu';
  return {
    nodeType,
    cpuCores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    gpus,
    threads,
  };
}
