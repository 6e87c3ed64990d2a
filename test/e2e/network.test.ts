import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { OmniClient } from '../../src/sdk/index.js';
import {
  type CliProcess,
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

/** Sends prompts with `concurrency` in flight; each carries an idempotency key so it can be re-sent safely. */
async function sendPrompts(
  url: string,
  apiKey: string,
  keys: string[],
  options: { maxTokens: number; concurrency: number; onAnswer?: (done: number) => void },
) {
  const answers = new Map<string, { taskId: string; nodeId: string; text: string }>();
  const failures = new Map<string, unknown>();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      try {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${apiKey}`,
            'idempotency-key': key,
          },
          body: JSON.stringify({
            model: 'tiny',
            messages: [{ role: 'user', content: `prompt ${key}` }],
            max_tokens: options.maxTokens,
            seed: 1,
          }),
          // Bounds a request that never ends, so the test fails naming it rather than at its own timeout.
          signal: AbortSignal.timeout(60_000),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
        const body = (await response.json()) as { choices: { message: { content: string } }[] };
        answers.set(key, {
          taskId: response.headers.get('x-omnitensor-task-id') as string,
          nodeId: response.headers.get('x-omnitensor-node') as string,
          text: body.choices[0]?.message.content ?? '',
        });
        options.onAnswer?.(answers.size);
      } catch (error) {
        failures.set(key, error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { answers, failures };
}

function resultsPerTask(dir: string): Map<string, number> {
  const db = new Database(join(dir, 'router', 'router.db'), { readonly: true });
  try {
    // Users' tasks only: checks of results (validation `auto`) are tasks of their own, keyed 'check:...'.
    const rows = db
      .prepare(
        `SELECT r.task_id, COUNT(*) AS n FROM results r JOIN tasks t ON t.id = r.task_id
         WHERE t.idempotency_key IS NULL OR t.idempotency_key NOT LIKE 'check:%' GROUP BY r.task_id`,
      )
      .all() as {
      task_id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.task_id, r.n]));
  } finally {
    db.close();
  }
}

/** Nodes with at least one accepted result in the router's database: answers and checks alike. */
function nodesThatWorked(dir: string): Set<string> {
  const db = new Database(join(dir, 'router', 'router.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT DISTINCT node_id FROM results').all() as { node_id: string }[];
    return new Set(rows.map((r) => r.node_id));
  } finally {
    db.close();
  }
}

describe('a network of real processes', () => {
  it('answers 50 prompts with work on all 3 nodes, each exactly once', async () => {
    ws = await workspace('fifty');
    const { apiKey } = await prepareRouterData(ws);
    const { url } = await startRouterProcess(ws);
    for (const name of ['n1', 'n2', 'n3']) await startNodeProcess(ws, url, name);
    await waitForNodes(url, 3);
    const keys = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const { answers, failures } = await sendPrompts(url, apiKey, keys, { maxTokens: 32, concurrency: 8 });
    expect([...failures.values()]).toEqual([]);
    expect(answers.size).toBe(50);
    const taskIds = new Set([...answers.values()].map((a) => a.taskId));
    expect(taskIds.size).toBe(50);
    // The work spreads: every node answered users or checked others' answers (a node the scheduler measured
    // slower under load may only check; under `auto` the checks are real work on a slot of their own), and no
    // one node answered everything.
    const answeredBy = new Set([...answers.values()].map((a) => a.nodeId));
    expect(answeredBy.size).toBeGreaterThanOrEqual(2);
    expect(nodesThatWorked(ws.dir).size).toBe(3);
    const results = resultsPerTask(ws.dir);
    expect(results.size).toBe(50);
    expect([...results.values()].every((n) => n === 1)).toBe(true);
  });

  it('delivers every answer once when a node is killed with SIGKILL mid-run', async () => {
    ws = await workspace('nodekill');
    const { apiKey } = await prepareRouterData(ws);
    const { url } = await startRouterProcess(ws);
    const nodes: CliProcess[] = [];
    for (const name of ['n1', 'n2', 'n3']) nodes.push(await startNodeProcess(ws, url, name));
    await waitForNodes(url, 3);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    let killed = false;
    const { answers, failures } = await sendPrompts(url, apiKey, keys, {
      maxTokens: 200,
      concurrency: 6,
      onAnswer: (done) => {
        if (done >= 5 && !killed) {
          killed = true;
          nodes[0]?.child.kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect([...failures.values()]).toEqual([]);
    expect(answers.size).toBe(30);
    expect(new Set([...answers.values()].map((a) => a.taskId)).size).toBe(30);
    const results = resultsPerTask(ws.dir);
    expect(results.size).toBe(30);
    expect([...results.values()].every((n) => n === 1)).toBe(true);
    const health = (await (await fetch(`${url}/health`)).json()) as { nodes: number };
    expect(health.nodes).toBe(2);
  });

  it('loses no accepted prompt when the router is killed with SIGKILL and restarted', async () => {
    ws = await workspace('routerkill');
    const { apiKey } = await prepareRouterData(ws);
    const first = await startRouterProcess(ws);
    const port = Number(new URL(first.url).port);
    for (const name of ['n1', 'n2']) await startNodeProcess(ws, first.url, name);
    await waitForNodes(first.url, 2);
    const keys = Array.from({ length: 16 }, (_, i) => `r${i}`);
    let killed = false;
    const before = await sendPrompts(first.url, apiKey, keys, {
      maxTokens: 300,
      concurrency: 8,
      onAnswer: (done) => {
        if (done >= 3 && !killed) {
          killed = true;
          first.process.child.kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(before.failures.size).toBeGreaterThan(0);
    const finishedBefore = new Map(before.answers);

    const second = await startRouterProcess(ws, { port });
    await second.process.line(/recovered unfinished tasks/);
    await waitForNodes(second.url, 2, 30_000);
    // The client re-sends with the same idempotency keys: open tasks are joined, finished ones answered from the store.
    const after = await sendPrompts(second.url, apiKey, keys, { maxTokens: 300, concurrency: 8 });
    // On failure, the restarted router's last lines say what the unanswered tasks were waiting for.
    expect([...after.failures.values()].map(String), second.process.output().slice(-4000)).toEqual([]);
    expect(after.answers.size).toBe(16);
    for (const [key, answer] of finishedBefore) {
      expect(after.answers.get(key)).toEqual(answer);
    }
    const results = resultsPerTask(ws.dir);
    expect(results.size).toBe(16);
    expect([...results.values()].every((n) => n === 1)).toBe(true);
    // Finished tasks were not run again: same task, same node, same text, and still one result each.
    const client = new OmniClient({ baseUrl: second.url, apiKey });
    expect(await client.health()).toEqual({ status: 'ok', nodes: 2 });
    // Every answer is checked while the nodes are new (validation auto), so this is twice the work.
  }, 120_000);
});
