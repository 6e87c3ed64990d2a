import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultNode } from '../../bench/sim/fault-node.js';
import { SIM_MODEL, SIM_MODEL_SHA256 } from '../../bench/sim/harness.js';
import { createKey } from '../../src/cli/local-commands.js';
import { type RunningRouter, startRouter } from '../../src/router/index.js';

// Found by the fault-injection run (seeds 3 and 6 of `npm run bench -- faults`): an answer sent again from
// the store, to a client re-sending its Idempotency-Key, lost its validation headers and body field, so a
// `none` answer no longer said it was unchecked and a checked one no longer said it passed.
let dir: string;
let router: RunningRouter;
let apiKey: string;
const nodes: FaultNode[] = [];
const quiet = { drop: 0, duplicate: 0, reorder: 0, delay: 0, maxDelayMs: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otensor-stored-'));
  apiKey = createKey(dir);
  router = await startRouter({ port: 0, dataDir: dir, rateLimit: 0, rateLimitIp: 0 }, { log: () => {} });
  router.services.models.add({ ...SIM_MODEL, addedAt: Date.now() });
  for (let index = 0; index < 2; index++) {
    const node = new FaultNode({
      index: 1000 + index,
      behaviour: 'honest',
      network: quiet,
      random: Math.random,
      url: () => router.url,
      modelSha256: SIM_MODEL_SHA256,
      slots: 2,
      slowMs: 0,
      board: new Set(),
      injected: {},
    });
    node.start();
    nodes.push(node);
  }
  while (router.services.scheduler.nodeCount < 2) await new Promise((r) => setTimeout(r, 20));
}, 30_000);

afterAll(async () => {
  for (const node of nodes) node.stop();
  await router?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ask(validation: string, key: string) {
  const response = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({
      model: 'sim',
      messages: [{ role: 'user', content: `stored ${validation}` }],
      max_tokens: 8,
      temperature: 0,
      validation,
    }),
  });
  const body = (await response.json()) as { omnitensor?: unknown };
  return {
    status: response.status,
    task: response.headers.get('x-omnitensor-task-id'),
    validation: response.headers.get('x-omnitensor-validation'),
    verdict: response.headers.get('x-omnitensor-verdict'),
    checkedBy: response.headers.get('x-omnitensor-checked-by'),
    field: body.omnitensor,
  };
}

describe('an answer sent again from the store', () => {
  for (const validation of ['none', 'checksum']) {
    it(`keeps its validation headers and field (${validation})`, async () => {
      const first = await ask(validation, `stored-${validation}`);
      expect(first.status).toBe(200);
      expect(first.verdict).toBe(validation === 'none' ? 'unchecked' : 'pass');
      const again = await ask(validation, `stored-${validation}`);
      expect(again).toEqual(first);
    });
  }
});
