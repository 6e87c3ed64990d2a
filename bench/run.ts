/** `npm run bench`: runs each benchmark, prints its figures, writes them to bench/results/<name>.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adversarialBench } from './adversarial.js';
import { batchBench } from './batch.js';
import { campaignsBench } from './campaigns.js';
import { chainBench } from './chain.js';
import { connectionsBench } from './connections.js';
import { faultsBench } from './faults.js';
import { ledgerBench } from './ledger.js';
import { metricsBench } from './metrics.js';
import { nearDuplicatesBench } from './near-duplicates.js';
import { overheadBench } from './overhead.js';
import { schedulerBench } from './scheduler.js';
import { verifiedStreamBench } from './verified-stream.js';

const results = join(import.meta.dirname, 'results');
mkdirSync(results, { recursive: true });

const benches: Record<string, () => Promise<Record<string, unknown>>> = {
  overhead: () => overheadBench(),
  batch: () => batchBench(),
  scheduler: () => schedulerBench(),
  connections: () => connectionsBench(),
  ledger: () => ledgerBench(),
  adversarial: () => adversarialBench(),
  faults: () => faultsBench(),
  'verified-stream': () => verifiedStreamBench(),
  metrics: () => metricsBench(),
  chain: () => chainBench(),
  campaigns: () => campaignsBench(),
  'near-duplicates': () => nearDuplicatesBench(),
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench ${name}...\n`);
  const figures = {
    ...(await run()),
    machine: `${process.platform} ${process.arch}, node ${process.version}`,
    at: new Date().toISOString(),
  };
  writeFileSync(join(results, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
