import { afterAll, expect, it } from 'vitest';
import {
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

let ws: Workspace | undefined;
afterAll(async () => ws?.cleanup());

it('answers 429 with Retry-After when the queue is full, and still serves the accepted requests', async () => {
  ws = await workspace('queue');
  const { apiKey } = await prepareRouterData(ws);
  const { url } = await startRouterProcess(ws, { args: ['--queue-limit', '2'] });
  await startNodeProcess(ws, url, 'n1', ['--slots', '1']);
  await waitForNodes(url, 1);
  const responses = await Promise.all(
    Array.from({ length: 8 }, () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          model: 'tiny',
          messages: [{ role: 'user', content: 'busy' }],
          max_tokens: 1500,
        }),
      }),
    ),
  );
  const statuses = responses.map((r) => r.status).sort();
  const refused = responses.filter((r) => r.status === 429);
  expect(refused.length).toBeGreaterThan(0);
  expect(Number(refused[0]?.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(statuses.filter((s) => s === 200).length + refused.length).toBe(8);
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
});
