import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import {
  type CliProcess,
  cliOutput,
  prepareRouterData,
  runCheater,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// Router, two honest workers, two validators (a validator's fail slashes only when a second confirms it);
// each test adds cheating nodes (bench/sim/cheater-node.ts: real
// nodes whose answers are rewritten before they sign them) and checks the level meant to catch them does.
let ws: Workspace;
let url: string;
let apiKey: string;
let validator: CliProcess;
let validator2: CliProcess;
let connected = 4;

const WALLET_A = `0x${'a1'.repeat(20)}`;
const WALLET_B = `0x${'b2'.repeat(20)}`;
const WALLET_C = `0x${'c3'.repeat(20)}`;
const WALLET_D = `0x${'d4'.repeat(20)}`;

beforeAll(async () => {
  ws = await workspace('verify');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws));
  await startNodeProcess(ws, url, 'h1', ['--wallet', WALLET_A]);
  await startNodeProcess(ws, url, 'h2', ['--wallet', WALLET_B]);
  validator = await startNodeProcess(ws, url, 'v1', ['--role', 'validator', '--wallet', WALLET_C]);
  validator2 = await startNodeProcess(ws, url, 'v2', ['--role', 'validator', '--wallet', WALLET_D]);
  await waitForNodes(url, 4);
});

afterAll(async () => {
  await ws?.cleanup();
});

type Answer = { status: number; node: string | null; headers: Headers; body: Record<string, unknown> };

async function chat(
  prompt: string,
  validation: string,
  extra: Record<string, unknown> = {},
): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: 24,
      seed: 7,
      validation,
      ...extra,
    }),
  });
  return {
    status: response.status,
    node: response.headers.get('x-omnitensor-node'),
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function nodeRecord(id: string) {
  const response = await fetch(`${url}/api/nodes/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return (await response.json()) as {
    reputation_by_model: { passes: number; fails: number; score: number }[];
    verdicts: { outcome: string; level: string; validator: string; evidence: Record<string, unknown> }[];
  };
}

async function startCheater(name: string, cheat: string, extra: Record<string, unknown> = {}) {
  const cheater = ws.track(
    runCheater({ router: url, model: ws.model, data: join(ws.dir, name), cheat, ...extra }),
  );
  const [, id] = await cheater.line(/cheater \w+ connected: (0x[0-9a-fA-F]{40})/);
  connected++;
  await waitForNodes(url, connected);
  return { process: cheater, id: (id as string).toLowerCase() };
}

async function stop(cheater: { process: CliProcess }) {
  cheater.process.child.kill('SIGKILL');
  await cheater.process.exited;
  connected--;
}

/**
 * Sends prompts until the cheater has been caught at least `times` times; every answer must be verified and
 * none may come from the cheater. Likelihood checks here use greedy decoding, where every token must be the
 * model's top one (sampled outputs are judged statistically: see docs/verification.md).
 */
async function catchCheater(
  cheaterId: string,
  validation: string,
  level: string,
  options: { times?: number; params?: Record<string, unknown>; coincidences?: boolean } = {},
) {
  const times = options.times ?? 1;
  for (let round = 0; round < 6; round++) {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        chat(`round ${round} prompt ${i} for ${level}`, validation, {
          seed: 1000 + round * 6 + i,
          ...(level === 'likelihood' ? { temperature: 0 } : {}),
          ...options.params,
        }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      // A replayed answer may happen to be the right one for another prompt too; then it is no cheat.
      if (!options.coincidences) expect(answer.node?.toLowerCase()).not.toBe(cheaterId);
      expect(answer.headers.get('x-omnitensor-verdict')).toBe('pass');
      expect(answer.body.omnitensor).toMatchObject({ validation: { verdict: 'pass', level } });
    }
    const record = await nodeRecord(cheaterId);
    const fails = record.verdicts.filter((v) => v.outcome === 'fail');
    if (fails.length >= times) return fails;
  }
  throw new Error(`the cheater ${cheaterId} was never given work`);
}

describe('verified results', () => {
  for (const cheat of ['random', 'truncate', 'replay'] as const) {
    it(`likelihood catches a node that answers ${cheat} text, and the user gets a verified answer`, async () => {
      const cheater = await startCheater(`c-${cheat}`, cheat);
      try {
        const fails = await catchCheater(cheater.id, 'likelihood', 'likelihood', {
          coincidences: cheat === 'replay',
        });
        // The router's audit (a seeded replica) may record its fail first; the likelihood check fails it too.
        const byLikelihood = fails.find((v) => v.level === 'likelihood');
        expect(byLikelihood?.evidence).toHaveProperty('thresholds');
      } finally {
        await stop(cheater);
      }
    });
  }

  it('likelihood catches a node running a different model than it claims', async () => {
    const other = join(ws.dir, 'other.gguf');
    await writeTinyModel(other, { seed: 2 });
    const cheater = await startCheater('c-swap', 'swap', { swapModel: other });
    try {
      await catchCheater(cheater.id, 'likelihood', 'likelihood');
    } finally {
      await stop(cheater);
    }
  });

  // A node that ignores the router's seed sends a sample of the right model: likelihood cannot tell it (nor a
  // Q8_0 copy's sample) from the seeded one. The router's own audit (src/verify/audit.ts) reruns the seeded
  // request on two independent workers and fails it.
  it('likelihood on seeded sampled text: the router audits a node that ignores the seed and catches it', async () => {
    const cheater = await startCheater('c-reseed', 'reseed');
    try {
      const fails = await catchCheater(cheater.id, 'likelihood', 'likelihood', {
        params: { temperature: 0.9 },
      });
      expect(fails[0]?.evidence).toMatchObject({ audit: true, level: 'redundant' });
      expect(fails.every((v) => v.level !== 'likelihood')).toBe(true);
    } finally {
      await stop(cheater);
    }
  });

  it('checksum and redundant:3 outvote a node whose hash disagrees', async () => {
    const cheater = await startCheater('c-hash', 'random');
    try {
      const [fail] = await catchCheater(cheater.id, 'checksum', 'checksum');
      // Two hashes cannot tell who is wrong: a third node decided it by majority.
      expect(fail?.level).toBe('redundant');
      await catchCheater(cheater.id, 'redundant:3', 'redundant', { times: 2 });
    } finally {
      await stop(cheater);
    }
  });

  it('embedding compares a text answer with a reference answer, and an embedding request with a recomputed one', async () => {
    const cheater = await startCheater('c-embed', 'random');
    try {
      await catchCheater(cheater.id, 'embedding', 'embedding');
    } finally {
      await stop(cheater);
    }
    const response = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', input: ['one text', 'another text'], validation: 'embedding' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-omnitensor-verdict')).toBe('pass');
    const body = (await response.json()) as { data: unknown[]; omnitensor: unknown };
    expect(body.data).toHaveLength(2);
    expect(body.omnitensor).toMatchObject({ validation: { level: 'embedding', verdict: 'pass' } });
  });

  it("uses the API key's default level when a request names none, and refuses a bad one when the key is made", async () => {
    const data = join(ws.dir, 'router');
    const key = (await cliOutput(['keys', 'create', '--data', data, '--validation', 'likelihood'])).trim();
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'key default', max_tokens: 8, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-omnitensor-validation')).toBe('likelihood');
    expect(response.headers.get('x-omnitensor-verdict')).toBe('pass');
    const bad = runCli(['keys', 'create', '--data', data, '--validation', 'thorough']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.output()).toMatch(/Unknown validation level 'thorough'.*none, checksum/);
  });

  it('never lets a node check its twin: two nodes with one wallet are not independent', async () => {
    const other = join(ws.dir, 'other2.gguf');
    await writeTinyModel(other, { seed: 3 });
    const twinA = await startCheater('twin-a', 'swap', {
      swapModel: other,
      wallet: WALLET_A.replace('a1', 'dd'),
    });
    const twinB = await startCheater('twin-b', 'swap', {
      swapModel: other,
      wallet: WALLET_A.replace('a1', 'dd'),
    });
    try {
      const fails = await catchCheater(twinA.id, 'redundant:3', 'redundant');
      expect(fails.length).toBeGreaterThan(0);
      for (const twin of [twinA, twinB]) {
        const record = await nodeRecord(twin.id);
        expect(record.verdicts.every((v) => v.outcome === 'fail')).toBe(true);
        // No verdict on one twin was ever given by the other.
        const other = twin === twinA ? twinB.id : twinA.id;
        expect(record.verdicts.some((v) => v.validator === other)).toBe(false);
      }
    } finally {
      await stop(twinA);
      await stop(twinB);
    }
  });

  it('never flags an honest node across 200 checked requests', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++)
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            chat(`honest ${i}-${j}`, 'likelihood', j % 2 ? { temperature: 0 } : {}),
          ),
        )),
      );
    expect(answers.filter((a) => a.headers.get('x-omnitensor-verdict') === 'pass')).toHaveLength(200);
    for (const node of new Set(answers.map((a) => (a.node as string).toLowerCase()))) {
      const record = await nodeRecord(node);
      expect(record.reputation_by_model.every((r) => r.fails === 0)).toBe(true);
      expect(record.verdicts.every((v) => v.outcome === 'pass')).toBe(true);
    }
  });

  // A request admitted while no validator is connected would wait with no end: it is refused instead, and
  // checked again once a validator is back. (Work whose validator leaves after admission waits a bounded
  // time: test/e2e/verify-bounds.test.ts.)
  it('refuses likelihood while no validator is online, naming the missing role, and checks it once one is back', async () => {
    for (const v of [validator, validator2]) {
      v.child.kill('SIGKILL');
      await v.exited;
      connected--;
    }
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const health = (await (await fetch(`${url}/health`)).json()) as { nodes: number };
      if (health.nodes === connected) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const refused = await chat('waiting for a validator', 'likelihood');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({
      code: 'verification_unavailable',
      param: 'validation',
      message: expect.stringMatching(/likelihood needs a validator node; none is connected/),
    });
    validator = await startNodeProcess(ws, url, 'v1', ['--role', 'validator', '--wallet', WALLET_C]);
    connected++;
    await waitForNodes(url, connected);
    const answer = await chat('waiting for a validator', 'likelihood');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-omnitensor-verdict')).toBe('pass');
  });
});
