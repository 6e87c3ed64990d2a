import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  prepareRouterData,
  runCheater,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// Router with a honeypot after every passed likelihood check (--honeypot-rate 1), one honest worker, one
// honest validator, and validators that skip their work: one whose scores say every token is the top one
// (lazy), one that sends the scores of the first output it scored for every later one (other text).
let ws: Workspace;
let url: string;
let apiKey: string;
let lazyId: string;
let otherTextId: string;

beforeAll(async () => {
  ws = await workspace('honeypot');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws, { args: ['--honeypot-rate', '1'] }));
  await startNodeProcess(ws, url, 'h1', ['--wallet', `0x${'a1'.repeat(20)}`]);
  await startNodeProcess(ws, url, 'v1', ['--role', 'validator', '--wallet', `0x${'c3'.repeat(20)}`]);
  const start = async (name: string, cheat: string, wallet: string) => {
    const cheater = ws.track(
      runCheater({
        router: url,
        model: ws.model,
        data: join(ws.dir, name),
        cheat,
        roles: ['validator'],
        wallet,
      }),
    );
    const [, id] = await cheater.line(/cheater [\w-]+ connected: (0x[0-9a-fA-F]{40})/);
    return (id as string).toLowerCase();
  };
  lazyId = await start('lazy', 'lazy-validator', `0x${'e5'.repeat(20)}`);
  otherTextId = await start('other', 'other-text-validator', `0x${'f6'.repeat(20)}`);
  await waitForNodes(url, 4);
});

afterAll(async () => {
  await ws?.cleanup();
});

type Verdict = { outcome: string; level: string; validator: string; evidence: Record<string, unknown> };

async function faults(id: string, kind: string): Promise<Verdict[]> {
  const response = await fetch(`${url}/api/nodes/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const record = (await response.json()) as { verdicts: Verdict[] };
  return record.verdicts.filter(
    (v) =>
      v.outcome === 'fail' && (v.evidence.validatorFault as { kind?: string } | undefined)?.kind === kind,
  );
}

async function chat(prompt: string) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: 16,
      temperature: 0,
      validation: 'likelihood',
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('validators that skip their work', () => {
  it('a lazy validator fails honeypots (reputation, then stake); one scoring other text is refused', async () => {
    let lazy: Verdict[] = [];
    let otherText: Verdict[] = [];
    // Rounds of requests until both are caught; the round count only bounds the wait.
    for (let round = 0; round < 12 && (lazy.length < 2 || otherText.length < 1); round++) {
      const answers = await Promise.all(
        Array.from({ length: 3 }, (_, i) => chat(`round ${round} question ${i}: name a colour`)),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body.omnitensor).toMatchObject({
          validation: { verdict: 'pass', level: 'likelihood' },
        });
      }
      [lazy, otherText] = await Promise.all([
        faults(lazyId, 'honeypot'),
        faults(otherTextId, 'invalid-scores'),
      ]);
    }
    expect(lazy.length).toBeGreaterThanOrEqual(2);
    expect(lazy.map((v) => (v.evidence.validatorFault as { strike: number }).strike)).toContain(2);
    expect(otherText.length).toBeGreaterThanOrEqual(1);
    expect(otherText[0]?.validator).toBe('router');
  });
});
