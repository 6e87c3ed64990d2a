/**
 * Ledger throughput on the embedded store (a real SQLite file in a temp folder, WAL, as the router opens it):
 * payment entries booked per second with 1,000 nodes earning, committed the way the router does it (one
 * group commit per event-loop turn) against one transaction per entry in the same run; then closing an epoch
 * for 10,000 nodes with each seed's formula, and verifying the whole history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, type NodeEpochInput, ONE_TOKEN, quote, REWARDS } from '../src/ledger/index.js';
import { LedgerStore, openDatabase } from '../src/store/index.js';

export type LedgerBenchOptions = { nodes?: number; entries?: number; perTurn?: number; epochNodes?: number };

const address = (kind: number, n: number) =>
  `0x${kind.toString(16).padStart(8, '0')}${n.toString(16).padStart(32, '0')}`;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const round = (x: number, digits = 0) => Number(x.toFixed(digits));

function openLedger(config: ConstructorParameters<typeof Ledger>[0]['config'] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-ledger-'));
  const db = openDatabase(dir);
  const ledger = new Ledger({ store: new LedgerStore(db), config });
  return {
    ledger,
    done() {
      ledger.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Books `entries` payments from 100 session escrows to `nodes` wallets, `perTurn` per event-loop turn. With
 * `holds`, each task is held at admission in one turn and charged (consuming its hold) in the next, as the
 * router does; the escrows' holds are then written with every group commit too.
 */
async function payments(options: {
  nodes: number;
  entries: number;
  perTurn: number;
  groupCommit: boolean;
  holds?: boolean;
}) {
  const { ledger, done } = openLedger({ feePpm: 10_000n });
  const sessions = 100;
  const users = Array.from({ length: sessions }, (_, i) => address(1, i));
  const wallets = Array.from({ length: options.nodes }, (_, i) => address(2, i));
  ledger.genesis(users.map((account) => ({ account, amount: 1_000_000n * ONE_TOKEN })));
  for (const [i, owner] of users.entries()) {
    ledger.escrows.open({ session: `sess_${i}`, owner, budget: 1_000_000n * ONE_TOKEN });
  }
  await ledger.sync();
  const price = { input: 10n ** 12n, output: 3n * 10n ** 12n };
  // Task ids as the router makes them: time-ordered.
  const taskId = (i: number) => `task_${(1_700_000_000_000 + i).toString(36)}`;
  const hold = (i: number) =>
    ledger.escrows.hold({ session: `sess_${i % sessions}`, hold: taskId(i), amount: quote(price, 150, 84) });
  const before = ledger.commits;
  const start = performance.now();
  if (options.holds) for (let i = 0; i < options.perTurn; i++) hold(i);
  for (let i = 0; i < options.entries; i++) {
    ledger.escrows.charge({
      session: `sess_${i % sessions}`,
      key: `task:${taskId(i)}:payment`,
      payee: wallets[i % options.nodes] as string,
      inputTokens: 50 + (i % 100),
      outputTokens: 20 + (i % 64),
      price,
      ...(options.holds ? { hold: taskId(i) } : {}),
    });
    if (options.holds && i + options.perTurn < options.entries) hold(i + options.perTurn);
    if (!options.groupCommit) ledger.flush();
    else if ((i + 1) % options.perTurn === 0) await turn();
  }
  await ledger.sync();
  const seconds = (performance.now() - start) / 1000;
  const after = ledger.commits;
  // A result delivered again books nothing: measure what answering a duplicate costs.
  const dupStart = performance.now();
  const dupCount = Math.min(20_000, options.entries);
  for (let i = 0; i < dupCount; i++) {
    ledger.escrows.charge({
      session: `sess_${i % sessions}`,
      key: `task:${taskId(i)}:payment`,
      payee: wallets[i % options.nodes] as string,
      inputTokens: 50 + (i % 100),
      outputTokens: 20 + (i % 64),
      price,
    });
  }
  const dupSeconds = (performance.now() - dupStart) / 1000;
  const verifyStart = performance.now();
  const report = ledger.verify();
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  done();
  if (!report.ok) throw new Error(`ledger bench: verify failed: ${report.problems.slice(0, 3).join('; ')}`);
  return {
    entries: options.entries,
    seconds: round(seconds, 3),
    entriesPerSecond: round(options.entries / seconds),
    postingsPerSecond: round((options.entries * 3) / seconds),
    transactions: after.transactions - before.transactions,
    duplicatesPerSecond: round(dupCount / dupSeconds),
    verify: { entries: report.entries, postings: report.postings, seconds: round(verifySeconds, 3) },
  };
}

/** Closes one epoch per formula for `count` nodes, all staked and measured. */
async function epochClose(count: number) {
  const results: Record<string, unknown> = {};
  for (const formula of ['omnitensor', 'tensorchain'] as const) {
    const { ledger, done } = openLedger({ rewards: { formula } });
    const owners = Array.from({ length: count }, (_, i) => address(3, i));
    const nodes = Array.from({ length: count }, (_, i) => address(4, i));
    ledger.genesis([
      { account: REWARDS, amount: 100_000_000n * ONE_TOKEN },
      ...owners.map((account) => ({ account, amount: 1000n * ONE_TOKEN })),
    ]);
    for (const [i, node] of nodes.entries()) {
      ledger.staking.stake({ node, owner: owners[i] as string, amount: BigInt(1 + (i % 500)) * ONE_TOKEN });
      if (i % 1000 === 999) await turn();
    }
    // Epoch 1 closes empty so epoch 2 opens with every stake in its snapshot (seed 001's S(g)).
    ledger.epochs.close({ epoch: 1, nodes: [] });
    await ledger.sync();
    const measured: NodeEpochInput[] = nodes.map((node, i) => ({
      node,
      account: owners[i] as string,
      benchmark: 10 + (i % 90),
      tasks: i % 40,
      uptimeMs: (i % 10) * 360_000,
      speed: 5 + (i % 30),
    }));
    const start = performance.now();
    const report = ledger.epochs.close({ epoch: 2, nodes: measured, now: Date.now() + 3_600_000 });
    const computedMs = performance.now() - start;
    ledger.flush();
    const totalMs = performance.now() - start;
    const againStart = performance.now();
    ledger.epochs.close({ epoch: 2, nodes: measured });
    const againMs = performance.now() - againStart;
    done();
    results[formula] = {
      nodes: count,
      closeMs: round(totalMs),
      computeAndBookMs: round(computedMs),
      commitMs: round(totalMs - computedMs),
      repeatCloseMs: round(againMs),
      paidNodes: report.rewards.filter((r) => r.amount > 0n).length,
    };
  }
  return results;
}

export async function ledgerBench(options: LedgerBenchOptions = {}) {
  const nodes = options.nodes ?? 1000;
  const entries = options.entries ?? 100_000;
  const perTurn = options.perTurn ?? 500;
  process.stderr.write(
    `ledger: ${entries} payments to ${nodes} nodes, group commit of ${perTurn} per turn...\n`,
  );
  const grouped = await payments({ nodes, entries, perTurn, groupCommit: true });
  process.stderr.write('ledger: the same with a hold per task at admission...\n');
  const withHolds = await payments({ nodes, entries, perTurn, groupCommit: true, holds: true });
  process.stderr.write('ledger: the same with one transaction per entry...\n');
  const single = await payments({ nodes, entries: Math.min(entries, 10_000), perTurn, groupCommit: false });
  process.stderr.write(`ledger: epoch close with ${options.epochNodes ?? 10_000} nodes...\n`);
  const epoch = await epochClose(options.epochNodes ?? 10_000);
  return {
    nodes,
    groupCommit: { perTurn, ...grouped },
    groupCommitWithHolds: { perTurn, ...withHolds },
    oneTransactionPerEntry: single,
    groupCommitSpeedup: round(grouped.entriesPerSecond / single.entriesPerSecond, 1),
    targetEntriesPerSecond: 20_000,
    meetsTarget: grouped.entriesPerSecond >= 20_000 && withHolds.entriesPerSecond >= 20_000,
    epochClose: epoch,
  };
}
