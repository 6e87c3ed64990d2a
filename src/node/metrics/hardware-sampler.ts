import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';

/** What the machine's sensors say now; null where a figure cannot be read here. */
export type HardwareReading = {
  gpuUtilization: number | null;
  cpuUtilization: number | null;
  memoryUsedBytes: number | null;
  powerWatts: number | null;
  temperatureC: number | null;
};

type SmiReading = {
  utilization: number;
  memoryUsedBytes: number;
  powerWatts: number | null;
  temperatureC: number | null;
};

const num = (text: string | undefined): number | null => {
  const value = Number(text?.trim());
  // Fields read "[N/A]" or "[Not Supported]" on some boards.
  return text !== undefined && text.trim() !== '' && Number.isFinite(value) ? value : null;
};

/** Parses `nvidia-smi --query-gpu=utilization.gpu,memory.used,power.draw,temperature.gpu` lines (all GPUs). */
export function parseNvidiaSmi(stdout: string): SmiReading | null {
  const gpus = stdout
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [utilization, memoryMiB, power, temperature] = line.split(',');
      return {
        utilization: num(utilization),
        memoryMiB: num(memoryMiB),
        power: num(power),
        temperature: num(temperature),
      };
    });
  if (gpus.length === 0) return null;
  const known = <T>(values: (T | null)[]) => values.filter((v): v is T => v !== null);
  const utilizations = known(gpus.map((g) => g.utilization));
  const powers = known(gpus.map((g) => g.power));
  const temperatures = known(gpus.map((g) => g.temperature));
  return {
    // Several GPUs: mean utilization, summed memory and power, the hottest temperature.
    utilization: utilizations.length ? utilizations.reduce((a, b) => a + b, 0) / utilizations.length : 0,
    memoryUsedBytes: known(gpus.map((g) => g.memoryMiB)).reduce((a, b) => a + b, 0) * 1024 * 1024,
    powerWatts: powers.length ? powers.reduce((a, b) => a + b, 0) : null,
    temperatureC: temperatures.length ? Math.max(...temperatures) : null,
  };
}

/** CPU busy share (0..100) between two `/proc/stat` first lines. */
export function cpuBusyPercent(before: number[], after: number[]): number | null {
  const total = (t: number[]) => t.reduce((a, b) => a + b, 0);
  // idle + iowait are fields 4 and 5 of the cpu line.
  const idle = (t: number[]) => (t[3] ?? 0) + (t[4] ?? 0);
  const dt = total(after) - total(before);
  if (dt <= 0) return null;
  return Math.min(100, Math.max(0, (100 * (dt - (idle(after) - idle(before)))) / dt));
}

const RAPL = '/sys/class/powercap/intel-rapl:0';

/**
 * Reads GPU figures from nvidia-smi where it exists; otherwise CPU utilization from /proc/stat and package
 * power from RAPL's energy counter where the kernel exposes it (and lets this user read it).
 */
export class HardwareSampler {
  #smi = true;
  #rapl = true;
  #lastCpu: number[] | null = null;
  #lastEnergy: { uj: number; at: number } | null = null;

  async read(): Promise<HardwareReading> {
    const [smi, cpu, power] = await Promise.all([this.#nvidia(), this.#cpu(), this.#raplWatts()]);
    return {
      gpuUtilization: smi?.utilization ?? null,
      cpuUtilization: cpu,
      memoryUsedBytes: smi?.memoryUsedBytes ?? totalmem() - freemem(),
      powerWatts: smi?.powerWatts ?? power,
      temperatureC: smi?.temperatureC ?? null,
    };
  }

  #nvidia(): Promise<SmiReading | null> {
    if (!this.#smi) return Promise.resolve(null);
    return new Promise((resolve) => {
      execFile(
        'nvidia-smi',
        [
          '--query-gpu=utilization.gpu,memory.used,power.draw,temperature.gpu',
          '--format=csv,noheader,nounits',
        ],
        { timeout: 3000 },
        (error, stdout) => {
          // No nvidia-smi here (the usual CPU box): stop spawning it every sample.
          if (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.#smi = false;
            return resolve(null);
          }
          resolve(parseNvidiaSmi(stdout));
        },
      );
    });
  }

  async #cpu(): Promise<number | null> {
    try {
      const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
      const times = line.trim().split(/\s+/).slice(1).map(Number);
      const before = this.#lastCpu;
      this.#lastCpu = times;
      return before ? cpuBusyPercent(before, times) : null;
    } catch {
      return null;
    }
  }

  async #raplWatts(): Promise<number | null> {
    if (!this.#rapl) return null;
    try {
      const uj = Number(await readFile(`${RAPL}/energy_uj`, 'utf8'));
      const at = performance.now();
      const before = this.#lastEnergy;
      this.#lastEnergy = { uj, at };
      if (!before || at <= before.at) return null;
      let delta = uj - before.uj;
      // The counter wraps at max_energy_range_uj.
      if (delta < 0) delta += Number(await readFile(`${RAPL}/max_energy_range_uj`, 'utf8'));
      return delta / 1e6 / ((at - before.at) / 1000);
    } catch {
      this.#rapl = false;
      return null;
    }
  }
}
