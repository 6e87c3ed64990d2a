import { formatAmount } from '../ledger/index.js';
import { CampaignClient, type EpochReportView, type LedgerEntryView, OmniClient } from '../sdk/index.js';
import { type RouterAuthOptions, routerAndAuth } from './config.js';
import { verifyLedgerAt } from './local-admin.js';

/** Amounts are whole tokens; the seeds call them OMNIT. */
const UNIT = 'OMNIT';

function client(options: RouterAuthOptions): OmniClient {
  const { router, apiKey } = routerAndAuth(options);
  return new OmniClient({ baseUrl: router, apiKey });
}

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Left-aligned columns, one row a line. */
function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  say(line(header));
  for (const row of rows) say(line(row));
}

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function history(entries: LedgerEntryView[]): void {
  if (entries.length === 0) {
    say('  (no entries)');
    return;
  }
  table(
    ['seq', 'time (UTC)', 'reason', 'amount', 'reference'],
    entries.map((e) => [
      String(e.seq),
      time(e.at),
      e.reason,
      e.amount.startsWith('-') ? e.amount : `+${e.amount}`,
      e.reference ?? '',
    ]),
  );
}

/** `balance [--account ADDRESS]`: the account's balance, stakes, escrows and pending withdrawals. */
export async function balanceCommand(options: RouterAuthOptions & { account?: string }): Promise<void> {
  const a = await client(options).account(options.account ?? 'me');
  say(`account              ${a.account}`);
  say(`balance              ${a.balance} ${UNIT}`);
  if (a.staked === undefined) return;
  say(`staked               ${a.staked} ${UNIT}`);
  say(`unbonding            ${a.unbonding} ${UNIT}`);
  say(`in session escrow    ${a.escrowed} ${UNIT}`);
  say(`pending withdrawals  ${a.pending_withdrawals} ${UNIT}`);
}

/** `check-rewards --wallet ADDRESS` (seed 002): balance, staked, pending, earned this epoch, recent history. */
export async function checkRewardsCommand(
  options: RouterAuthOptions & { wallet: string; limit: number },
): Promise<void> {
  const api = client(options);
  const [a, page, epoch] = await Promise.all([
    api.account(options.wallet),
    api.entries(options.wallet, { limit: options.limit }),
    api.currentEpoch(),
  ]);
  say(`wallet               ${a.account}`);
  say(`balance              ${a.balance} ${UNIT}`);
  say(
    `staked               ${a.staked ?? '0'} ${UNIT}${a.unbonding && a.unbonding !== '0' ? ` (+${a.unbonding} unbonding)` : ''}`,
  );
  say(`pending withdrawals  ${a.pending_withdrawals ?? '0'} ${UNIT}`);
  say(
    `earned this epoch    ${a.earned_this_epoch ?? '0'} ${UNIT}  (epoch ${epoch.epoch}, since ${time(epoch.started_at)} UTC; payments, check fees and slash shares)`,
  );
  // Data campaign earnings (issue 12); a router without campaigns answers 404, and the line is left out.
  const { router, apiKey } = routerAndAuth(options);
  const data = await new CampaignClient({ baseUrl: router, apiKey })
    .rewards(options.wallet)
    .catch(() => null);
  if (data)
    say(
      `data rewards         ${data.contributions} ${UNIT} for ${data.items_paid} accepted items, ${data.reviews} ${UNIT} for ${data.reviews_paid} reviews`,
    );
  for (const s of a.stakes ?? [])
    say(
      `  node ${s.node}: ${s.bonded} bonded${s.meets_minimum ? '' : ' (below the minimum stake: no work)'}`,
    );
  if (a.rewards && a.rewards.length > 0) {
    say('epoch rewards:');
    table(
      ['epoch', 'node', 'tasks', 'uptime', 'amount'],
      a.rewards.map((r) => [
        String(r.epoch),
        r.node,
        String(r.inputs.tasks),
        `${(r.inputs.uptimeMs / 60_000).toFixed(1)} min`,
        r.amount,
      ]),
    );
  }
  say('recent history:');
  history(page.data);
}

/** `transfer --to ADDRESS --amount X` */
export async function transferCommand(
  options: RouterAuthOptions & { to: string; amount: string; idempotencyKey?: string },
): Promise<void> {
  const done = await client(options).transfer(
    { to: options.to, amount: options.amount },
    options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {},
  );
  say(
    `sent ${done.amount} ${UNIT} from ${done.from} to ${done.to} (entry ${done.seq}); balance ${done.balance} ${UNIT}`,
  );
}

/** `stake --node NODE_ID --amount X` */
export async function stakeCommand(
  options: RouterAuthOptions & { node: string; amount: string },
): Promise<void> {
  const s = await client(options).stake({ node: options.node, amount: options.amount });
  say(`staked ${options.amount} ${UNIT} on node ${s.node}: ${s.bonded} ${UNIT} bonded`);
  if (!s.meets_minimum) say('the node is still below the minimum stake and receives no work');
}

/** `unstake --node NODE_ID --amount X`: starts the unbonding period. */
export async function unstakeCommand(
  options: RouterAuthOptions & { node: string; amount: string },
): Promise<void> {
  const s = await client(options).unstake({ node: options.node, amount: options.amount });
  say(
    `unbonding ${options.amount} ${UNIT} from node ${s.node} until ${time(s.release_at)} UTC; ${s.bonded} ${UNIT} stay bonded`,
  );
}

/** `withdraw --amount X --to ADDRESS`: a cash-out request that locks the amount until it is settled. */
export async function withdrawCommand(
  options: RouterAuthOptions & { amount: string; to: string },
): Promise<void> {
  const w = await client(options).withdraw({ amount: options.amount, to: options.to });
  say(`withdrawal ${w.id}: ${w.amount} ${UNIT} to ${w.to}, ${w.status} (locked until settled)`);
}

/** `withdrawals [--status S]` */
export async function withdrawalsCommand(options: RouterAuthOptions & { status?: string }): Promise<void> {
  const { data } = await client(options).withdrawals(options.status ? { status: options.status } : {});
  if (data.length === 0) {
    say('no withdrawals');
    return;
  }
  table(
    ['id', 'created (UTC)', 'amount', 'to', 'status'],
    data.map((w) => [w.id, time(w.created_at), w.amount, w.to, w.status]),
  );
}

/** `mint --to ADDRESS --amount X` (operator, test networks only) */
export async function mintCommand(
  options: RouterAuthOptions & { to: string; amount: string },
): Promise<void> {
  const done = await client(options).mint({ to: options.to, amount: options.amount });
  say(`minted ${done.amount} ${UNIT} to ${done.to}; balance ${done.balance} ${UNIT}`);
}

function report(r: EpochReportView): void {
  say(
    `epoch ${r.epoch} (${r.formula}): ${time(r.started_at)} to ${time(r.closed_at)} UTC, ${(r.duration_ms / 60_000).toFixed(1)} min`,
  );
  say(
    `D(R) ${r.total} ${UNIT}, paid ${r.paid} ${UNIT} from a pool of ${r.pool}${r.scaled ? ' (scaled down: the pool was short)' : ''}`,
  );
  if (r.rewards.length === 0) {
    say('no nodes this epoch');
    return;
  }
  const seed000 = r.formula === 'omnitensor';
  table(
    seed000
      ? ['node', 'account', 'benchmark', 'tasks', 'uptime', 'Power', 'Consistency', 'amount']
      : ['node', 'account', 'stake', 'speed', 'eta', 'amount'],
    r.rewards.map((w) =>
      seed000
        ? [
            w.node,
            w.account,
            w.inputs.benchmark.toFixed(1),
            String(w.inputs.tasks),
            `${(w.inputs.uptimeMs / 60_000).toFixed(1)} min`,
            ppm(w.terms.powerPpm),
            ppm(w.terms.consistencyPpm),
            w.amount,
          ]
        : [
            w.node,
            w.account,
            formatAmount(BigInt(w.terms.stake ?? '0')),
            w.inputs.speed.toFixed(1),
            ppm(w.terms.etaPpm),
            w.amount,
          ],
    ),
  );
}

const ppm = (value: string | undefined) => (value === undefined ? '' : (Number(value) / 1e6).toFixed(3));

/** `epoch close [--epoch N]` (operator): closes the open epoch, or shows epoch N if it is closed already. */
export async function epochCloseCommand(options: RouterAuthOptions & { epoch?: number }): Promise<void> {
  const api = client(options);
  // Name the epoch, so running the command twice shows the same report instead of closing the next one.
  const epoch = options.epoch ?? (await api.currentEpoch()).epoch;
  report(await api.closeEpoch(epoch));
}

/** `epoch show [N]`: a closed epoch's report, or the open epoch. */
export async function epochShowCommand(epoch: string | undefined, options: RouterAuthOptions): Promise<void> {
  const api = client(options);
  if (epoch === undefined) {
    const current = await api.currentEpoch();
    say(
      `epoch ${current.epoch} (${current.formula}) open since ${time(current.started_at)} UTC; closes by ${time(current.ends_at)} UTC`,
    );
    return;
  }
  report(await api.epoch(Number(epoch)));
}

/** `ledger verify --data DIR`: checks the whole history offline; exits non-zero when it finds a problem. */
export async function ledgerVerifyCommand(options: { data: string }): Promise<void> {
  const r = verifyLedgerAt(options.data);
  say(`entries ${r.entries}, postings ${r.postings}, accounts ${r.accounts}`);
  say(
    `genesis ${formatAmount(r.genesis)} + minted ${formatAmount(r.minted)} - burned ${formatAmount(r.burned)} = supply ${formatAmount(r.supply)} ${UNIT}`,
  );
  for (const problem of r.problems) say(`problem: ${problem}`);
  if (!r.ok) throw new Error(`the ledger has ${r.problems.length} problem(s); see above.`);
  say('ok: every entry balances, no account below zero, supply = genesis + minted - burned');
}
