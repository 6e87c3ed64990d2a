/**
 * The invariants of a fault-injection run (bench/sim/faults.ts), checked over its whole history: what each
 * client got, and the router's store read after the router stopped, as `otensor-cli ledger verify` reads it.
 */
import { verifyLedger } from '../../src/ledger/index.js';
import { LedgerStore, openDatabase } from '../../src/store/index.js';
import type { Behaviour, InjectedCounts } from './fault-node.js';

/** One client request and what finally came back for it. */
export type Delivery = {
  index: number;
  validation: string;
  /** The text an honest node answers this request with. */
  honest: string;
  maxTokens: number;
  /** Task ids the router named in its answers to this request's sends (one, if answered once). */
  taskIds: string[];
  sends: number;
  /** Sends answered 503 or 429 and sent again (a client's retry). */
  retried503: number;
  /** 0 when no answer came before the deadline. */
  status: number;
  body: unknown;
  headers: Record<string, string>;
};

export type Invariant = { name: string; ok: boolean; failures: string[] };

export type FaultReport = {
  seed: number;
  ok: boolean;
  seconds: number;
  nodes: Record<string, number>;
  requests: number;
  answered: number;
  refused: Record<string, number>;
  /** Changed answers delivered under `validation: none`, as asked, with verdict `unchecked`. */
  uncheckedLiesDelivered: number;
  resends: number;
  injected: InjectedCounts;
  /** Failed verdicts stored against nodes, by their behaviour. */
  caught: Record<string, number>;
  invariants: Invariant[];
};

export type History = {
  seed: number;
  nodes: { nodeId: string; behaviour: Behaviour }[];
  dataDir: string;
  deliveries: Delivery[];
  injected: InjectedCounts;
  crashes: string[];
  routerErrors: string[];
  seconds: number;
};

type ChatBody = {
  choices?: { message?: { content?: string } }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: { message?: string };
};

export function checkHistory(history: History): FaultReport {
  const invariants: Invariant[] = [];
  const check = (name: string, failures: string[]) =>
    invariants.push({ name, ok: failures.length === 0, failures: failures.slice(0, 20) });
  const refused: Record<string, number> = {};
  let answered = 0;
  let unchecked = 0;
  const answerOnce: string[] = [];
  const honestOrFlagged: string[] = [];
  const reasons: string[] = [];
  const counts: string[] = [];
  const byNode = new Map<string, Behaviour>(history.nodes.map((n) => [n.nodeId, n.behaviour]));
  for (const d of history.deliveries) {
    const body = d.body as ChatBody | undefined;
    const tag = `request ${d.index} (${d.validation})`;
    if (d.status === 0) answerOnce.push(`${tag}: no answer after ${d.sends} sends`);
    if (d.taskIds.length > 1) answerOnce.push(`${tag}: answered as ${d.taskIds.length} tasks ${d.taskIds}`);
    if (d.status === 200) {
      answered++;
      const text = body?.choices?.[0]?.message?.content;
      if (text !== d.honest) {
        const verdict = d.headers['x-omnitensor-verdict'];
        // Under `none` a changed answer may go out, marked unchecked, but only the lie of the node that held the
        // lease (a forged result from another node must never be taken).
        const from = byNode.get(d.headers['x-omnitensor-node'] ?? '');
        if (
          d.validation === 'none' &&
          verdict === 'unchecked' &&
          (from === 'wrong-text' || from === 'replay')
        )
          unchecked++;
        else
          honestOrFlagged.push(
            `${tag}: delivered ${JSON.stringify(text)} (verdict ${verdict}), honest ${d.honest}`,
          );
      }
      const usage = body?.usage;
      if (!usage || usage.completion_tokens > d.maxTokens || usage.prompt_tokens > 1000)
        counts.push(`${tag}: usage ${JSON.stringify(usage)}`);
    } else if (d.status !== 0) {
      refused[d.status] = (refused[d.status] ?? 0) + 1;
      // `forged` is the text of every task_error a liar sends about others' tasks: it must never reach a client.
      const message = body?.error?.message;
      if (d.status === 500 || typeof message !== 'string' || message === '' || message.includes('forged'))
        reasons.push(`${tag}: ${d.status} ${JSON.stringify(body)}`);
    }
  }
  check('every request answered once (one task per Idempotency-Key, within the deadline)', answerOnce);
  check('no changed answer delivered unflagged', honestOrFlagged);
  check('every refusal a 4xx/502/503 with an OpenAI error reason, none forged by a liar, no 500', reasons);
  check('token counts bounded (completion <= max_tokens)', counts);

  const db = openDatabase(history.dataDir);
  const caught: Record<string, number> = {};
  try {
    const store: string[] = [];
    const duplicates = db
      .prepare(
        `SELECT idempotency_key AS key, COUNT(*) AS n FROM tasks WHERE idempotency_key LIKE 'client:faults-%'
         GROUP BY key_id, idempotency_key HAVING n > 1`,
      )
      .all() as { key: string; n: number }[];
    for (const row of duplicates) store.push(`${row.key}: ${row.n} tasks`);
    const resultOf = db.prepare('SELECT output FROM results WHERE task_id = ?');
    const taskOf = db.prepare('SELECT status FROM tasks WHERE id = ?');
    for (const d of history.deliveries) {
      const task = d.taskIds[0];
      if (!task) continue;
      const row = resultOf.get(task) as { output: string } | undefined;
      const status = (taskOf.get(task) as { status: string } | undefined)?.status;
      const stored = row ? (JSON.parse(row.output) as { text?: string }).text : undefined;
      const delivered = (d.body as ChatBody | undefined)?.choices?.[0]?.message?.content;
      if (d.status === 200 && (status !== 'done' || stored !== delivered))
        store.push(`request ${d.index}: delivered ${delivered}, stored ${stored} (task ${task} ${status})`);
      if (d.status !== 200 && d.status !== 0 && status === 'done')
        store.push(`request ${d.index}: refused ${d.status} but task ${task} is done with ${stored}`);
    }
    check('the store agrees: one task per key, the delivered answer is the stored result', store);

    const ledger = verifyLedger(new LedgerStore(db));
    check(
      'ledger verify clean (every entry balances, no account below zero, supply conserved)',
      ledger.problems,
    );

    const verdicts = db
      .prepare("SELECT node_id AS node, COUNT(*) AS n FROM verdicts WHERE outcome = 'fail' GROUP BY node_id")
      .all() as { node: string; n: number }[];
    for (const row of verdicts) {
      const behaviour = byNode.get(row.node.toLowerCase()) ?? 'unknown';
      caught[behaviour] = (caught[behaviour] ?? 0) + row.n;
    }
  } finally {
    db.close();
  }
  check('the router process never crashed (no uncaught exception or unhandled rejection)', history.crashes);
  // Refusals are logged as errors too; they are judged above, by what the client got.
  const unexplained = history.routerErrors.filter(
    (line) => !/^request failed .*"status":(4\d\d|502|503)\b/.test(line),
  );
  check('no other error logged by the router', unexplained);

  const nodes: Record<string, number> = {};
  for (const n of history.nodes) nodes[n.behaviour] = (nodes[n.behaviour] ?? 0) + 1;
  return {
    seed: history.seed,
    ok: invariants.every((i) => i.ok),
    seconds: Number(history.seconds.toFixed(1)),
    nodes,
    requests: history.deliveries.length,
    answered,
    refused,
    uncheckedLiesDelivered: unchecked,
    resends: history.deliveries.reduce((sum, d) => sum + d.sends - 1, 0),
    injected: history.injected,
    caught,
    invariants,
  };
}

/** The failed invariants of a report as lines, with the seed that reproduces them. */
export function describeFailures(report: FaultReport): string {
  const lines = [`seed ${report.seed} (reproduce: npm run bench -- faults --seed ${report.seed})`];
  for (const i of report.invariants.filter((x) => !x.ok))
    lines.push(`  FAILED ${i.name}:`, ...i.failures.map((f) => `    ${f}`));
  return lines.join('\n');
}
