import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  accountKind,
  type Booking,
  type EpochReport,
  formatAmount,
  formatPpm,
  MINT,
  normalizeAddress,
  parseJsonAmount,
  type RewardReport,
  type StakeView,
  stakeAccount,
  unbondingAccount,
  WITHDRAWALS,
} from '../../ledger/index.js';
import type {
  AccountView,
  StakeView as ApiStakeView,
  CurrentEpochView,
  EntriesPage,
  EpochReportView,
  LedgerEntryView,
  LedgerInfo,
  LedgerVerifyView,
  ListView,
  MintView,
  RewardView,
  TransferView,
  UnstakeView,
  WithdrawalView,
} from '../../protocol/index.js';
import { ForbiddenError, InvalidParameterError, NotFoundError, parseBody } from '../../protocol/index.js';
import type { AccountEntry, WithdrawalRecord } from '../../store/index.js';
import type { RouterServices } from '../context.js';
import { assertSameBooking } from '../tasks/idempotency.js';

// Amounts are strings of whole tokens; parseJsonAmount refuses JSON numbers, which went through a double.
const amount = z.unknown();
const address = z.string().min(1);
const transferRequest = z.object({ to: address, amount, from: z.string().optional() });
const stakeRequest = z.object({ node: address, amount });
const withdrawRequest = z.object({ amount, to: address });
const mintRequest = z.object({ to: address, amount });
const settleRequest = z.object({ settlement: z.string().max(200).optional() });
const closeRequest = z.object({ epoch: z.number().int().min(1).optional() });

/** Whole tokens as the API writes them. */
const tokens = (value: bigint) => formatAmount(value);

/** The account the key acts for; keys made before accounts have none. */
function ownAccount(request: FastifyRequest): string {
  if (!request.account)
    throw new ForbiddenError(
      'This API key has no account. Create one with `otensor-cli keys create --account ADDRESS`, or log in with your wallet.',
    );
  return request.account;
}

function requireOperator(request: FastifyRequest, what: string): void {
  if (!request.operator) throw new ForbiddenError(`Only an operator key may ${what}.`);
}

/** An account the key may read: its own, or any (system accounts included) for an operator. */
function readableAccount(request: FastifyRequest, id: string): string {
  const account = id === 'me' ? ownAccount(request) : id.startsWith('0x') ? id.toLowerCase() : id;
  if (!accountKind(account)) throw new InvalidParameterError('address', `'${id}' is not a ledger account.`);
  if (request.operator || account === request.account) return account;
  throw new ForbiddenError(
    `This key belongs to ${request.account ?? 'no account'}; it may read only its own account.`,
  );
}

/** An Idempotency-Key header, namespaced by the action and the account so keys of others never collide. */
function bookingKey(request: FastifyRequest, action: string, account: string): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 100)
    throw new InvalidParameterError(
      'Idempotency-Key',
      'The Idempotency-Key header must be 1 to 100 characters.',
    );
  return `${action}:${account}:${value}`;
}

const entryView = (e: AccountEntry): LedgerEntryView => ({
  seq: e.seq,
  at: e.at,
  reason: e.reason,
  reference: e.reference,
  key: e.key,
  amount: tokens(e.amount),
  postings: e.postings.map((p) => ({ account: p.account, amount: tokens(p.amount) })),
});

const stakeView = (s: StakeView): ApiStakeView => ({
  node: s.node,
  owner: s.owner,
  bonded: tokens(s.bonded),
  unbonding: tokens(s.unbonding),
  unbondings: s.unbondings.map((u) => ({ amount: tokens(u.amount), release_at: u.releaseAt })),
  meets_minimum: s.meetsMinimum,
});

const withdrawalView = (w: WithdrawalRecord): WithdrawalView => ({
  id: w.id,
  account: w.account,
  amount: tokens(w.amount),
  to: w.to,
  status: w.status,
  settlement: w.settlement,
  created_at: w.createdAt,
  updated_at: w.updatedAt,
});

const rewardView = (r: RewardReport): RewardView => ({
  epoch: r.epoch,
  node: r.node,
  account: r.account,
  formula: r.formula,
  inputs: r.inputs,
  terms: r.terms,
  formula_amount: tokens(r.formulaAmount),
  amount: tokens(r.amount),
});

/** An epoch report for the API: D(R), what was paid, and each node's inputs, terms and amount. */
export const epochView = (r: EpochReport): EpochReportView => ({
  epoch: r.epoch,
  started_at: r.startedAt,
  closed_at: r.closedAt,
  formula: r.formula,
  duration_ms: r.durationMs,
  total: tokens(r.total),
  paid: tokens(r.paid),
  pool: tokens(r.pool),
  scaled: r.scaled,
  terms: r.terms,
  rewards: [...r.rewards].sort((a, b) => (a.node < b.node ? -1 : 1)).map(rewardView),
});

/** The ledger's API under /api: accounts, transfers, stakes, withdrawals, epochs, and test-network mints. */
export function ledgerRoutes(app: FastifyInstance, services: RouterServices): void {
  const { ledger, payments, gate } = services;

  // The network's terms: what work costs and what staking and rewards follow.
  app.get('/api/ledger', async (): Promise<LedgerInfo> => {
    const c = ledger.config;
    const epoch = ledger.epochs.current();
    return {
      decimals: 18,
      fee: formatPpm(c.feePpm),
      minimum_stake: tokens(c.minimumStake),
      unbonding_ms: c.unbondingMs,
      slash: formatPpm(c.slashPpm),
      slash_validator_share: formatPpm(c.slashValidatorPpm),
      allow_mint: c.allowMint,
      epoch_ms: c.epochMs,
      epoch: { epoch: epoch.epoch, started_at: epoch.startedAt },
      rewards: {
        formula: c.rewards.formula,
        base_per_hour: tokens(c.rewards.basePerHour),
        bonus_per_task: tokens(c.rewards.bonusPerTask),
        alpha_per_hour: formatPpm(c.rewards.alphaPpmPerHour),
        pool: tokens(ledger.balance('rewards')),
      },
      prices: services.models.list().map((m) => {
        const price = payments.price(m);
        return { model: m.name, sha256: m.sha256, input: tokens(price.input), output: tokens(price.output) };
      }),
    };
  });

  app.get<{ Params: { address: string } }>('/api/accounts/:address', async (request) => {
    const account = readableAccount(request, request.params.address);
    if (accountKind(account) !== 'address')
      return { account, balance: tokens(ledger.balance(account)) } satisfies AccountView;
    const s = ledger.account(account);
    return {
      account,
      balance: tokens(s.balance),
      staked: tokens(s.staked),
      unbonding: tokens(s.unbonding),
      escrowed: tokens(s.escrowed),
      pending_withdrawals: tokens(s.pendingWithdrawals),
      earned_this_epoch: tokens(s.earnedThisEpoch),
      epoch: s.epoch,
      stakes: ledger.staking.ownedBy(account).map(stakeView),
      rewards: ledger.epochs.rewardsOf(account, 10).map(rewardView),
    } satisfies AccountView;
  });

  app.get<{ Params: { address: string }; Querystring: { limit?: string; before?: string } }>(
    '/api/accounts/:address/entries',
    async (request): Promise<EntriesPage> => {
      const account = readableAccount(request, request.params.address);
      const limit = Math.min(Math.max(Number(request.query.limit ?? 20) || 20, 1), 200);
      const before = request.query.before === undefined ? undefined : Number(request.query.before);
      if (before !== undefined && !Number.isSafeInteger(before))
        throw new InvalidParameterError('before', "'before' is the seq of the last entry seen.");
      const page = ledger.entries(account, {
        limit: limit + 1,
        ...(before === undefined ? {} : { beforeSeq: before }),
      });
      const data = page.slice(0, limit).map(entryView);
      const hasMore = page.length > limit;
      return {
        object: 'list',
        data,
        has_more: hasMore,
        next_before: hasMore ? (data.at(-1)?.seq ?? null) : null,
      };
    },
  );

  app.post('/api/transfers', async (request, reply) => {
    const body = parseBody(transferRequest, request.body);
    let from: string;
    if (body.from === undefined || body.from.toLowerCase() === request.account) from = ownAccount(request);
    else {
      // Operators spend the system pools (the treasury, the rewards pool) for the network, never a user's.
      requireOperator(request, `transfer from ${body.from}`);
      if (body.from !== 'treasury' && body.from !== 'rewards')
        throw new ForbiddenError(
          `An operator key spends only the system pools ('treasury', 'rewards'), not ${body.from}'s tokens.`,
          'from',
        );
      from = body.from;
    }
    const to = body.to === 'treasury' || body.to === 'rewards' ? body.to : normalizeAddress(body.to, 'to');
    const key = bookingKey(request, 'transfer', from);
    const amount = parseJsonAmount(body.amount);
    const booked = ledger.transfer({ from, to, amount, ...(key ? { key } : {}) });
    assertSameBooking(request, booked, {
      reason: 'transfer',
      postings: [
        { account: from, amount: -amount },
        { account: to, amount },
      ],
    });
    await ledger.sync();
    return reply.code(booked.duplicate ? 200 : 201).send({
      from,
      to,
      amount: tokens(amount),
      seq: booked.entry.seq,
      balance: tokens(ledger.balance(from)),
    } satisfies TransferView);
  });

  app.get<{ Params: { node: string } }>('/api/stakes/:node', async (request): Promise<ApiStakeView> => {
    const node = normalizeAddress(request.params.node, 'node');
    return { ...stakeView(ledger.staking.get(node)), can_receive_work: gate.canReceiveWork(node) };
  });

  /** Stake and unstake read the same body, book for the caller's own account, and re-gate the node. */
  const bookStake = async <T extends Booking>(
    request: FastifyRequest,
    action: 'stake' | 'unstake',
    book: (args: { node: string; owner: string; amount: bigint; key?: string }) => T,
  ) => {
    const body = parseBody(stakeRequest, request.body);
    const owner = ownAccount(request);
    const node = normalizeAddress(body.node, 'node');
    // Only the node's owner stakes on it: its own key or the payout wallet its signed hello named. Anyone
    // else's stake would make them the stake's owner and lock the operator out (stake squatting).
    const wallet = payments.wallet(node);
    if (action === 'stake' && owner !== node && owner !== wallet)
      throw new ForbiddenError(
        `Only node ${node}'s owner may stake on it: its own key or its payout wallet (${wallet}); this key is ${owner}'s.`,
        'node',
      );
    const key = bookingKey(request, action, owner);
    const amount = parseJsonAmount(body.amount);
    const booked = book({ node, owner, amount, ...(key ? { key } : {}) });
    const [from, to] =
      action === 'stake' ? [owner, stakeAccount(node)] : [stakeAccount(node), unbondingAccount(node)];
    assertSameBooking(request, booked, {
      reason: action === 'stake' ? 'stake' : 'unbond',
      postings: [
        { account: from, amount: -amount },
        { account: to, amount },
      ],
    });
    gate.refresh(node);
    await ledger.sync();
    return { booked, view: stakeView(ledger.staking.get(node)) };
  };

  app.post('/api/stake', async (request, reply) => {
    const { booked, view } = await bookStake(request, 'stake', (args) => ledger.staking.stake(args));
    return reply.code(booked.duplicate ? 200 : 201).send(view);
  });

  app.post('/api/unstake', async (request): Promise<UnstakeView> => {
    const { booked, view } = await bookStake(request, 'unstake', (args) => ledger.staking.unstake(args));
    return { ...view, release_at: booked.releaseAt };
  });

  app.post('/api/withdrawals', async (request, reply) => {
    const body = parseBody(withdrawRequest, request.body);
    const account = ownAccount(request);
    const key = bookingKey(request, 'withdrawal', account);
    const amount = parseJsonAmount(body.amount);
    const to = normalizeAddress(body.to, 'to');
    const booked = ledger.withdrawals.request({ account, amount, to, ...(key ? { key } : {}) });
    assertSameBooking(request, booked, {
      reason: 'withdrawal',
      postings: [
        { account, amount: -amount },
        { account: WITHDRAWALS, amount },
      ],
      also: { first: booked.withdrawal.to, now: to },
    });
    await ledger.sync();
    return reply.code(booked.duplicate ? 200 : 201).send(withdrawalView(booked.withdrawal));
  });

  app.get<{ Querystring: { status?: string; account?: string; limit?: string } }>(
    '/api/withdrawals',
    async (request): Promise<ListView<WithdrawalView>> => {
      const { status } = request.query;
      if (status !== undefined && !['pending', 'settled', 'cancelled'].includes(status))
        throw new InvalidParameterError('status', "'status' is pending, settled or cancelled.");
      // An operator sees every account's (or the one asked for); a user only their own.
      const account =
        request.query.account !== undefined
          ? readableAccount(request, request.query.account)
          : request.operator
            ? undefined
            : ownAccount(request);
      const limit = Math.min(Math.max(Number(request.query.limit ?? 50) || 50, 1), 500);
      const list = ledger.withdrawals.list({
        limit,
        ...(account ? { account } : {}),
        ...(status ? { status: status as WithdrawalRecord['status'] } : {}),
      });
      return { object: 'list', data: list.map(withdrawalView) };
    },
  );

  app.post<{ Params: { id: string } }>('/api/withdrawals/:id/cancel', async (request) => {
    const withdrawal = ledger.withdrawals.get(request.params.id);
    if (!withdrawal || (!request.operator && withdrawal.account !== request.account))
      throw new NotFoundError('withdrawal', `No withdrawal '${request.params.id}' for this key.`);
    const done = ledger.withdrawals.cancel(withdrawal.id);
    await ledger.sync();
    return withdrawalView(done.withdrawal);
  });

  // Settlement is the chain issue's; until then an operator marks a payout made.
  app.post<{ Params: { id: string } }>('/api/withdrawals/:id/settle', async (request) => {
    requireOperator(request, 'settle withdrawals');
    const body = parseBody(settleRequest, request.body ?? {});
    const done = ledger.withdrawals.settle(request.params.id, body.settlement ?? null);
    await ledger.sync();
    return withdrawalView(done.withdrawal);
  });

  app.post('/api/mint', async (request, reply) => {
    requireOperator(request, 'mint');
    const body = parseBody(mintRequest, request.body);
    const to = body.to === 'treasury' || body.to === 'rewards' ? body.to : normalizeAddress(body.to, 'to');
    const key = bookingKey(request, 'mint', to);
    const amount = parseJsonAmount(body.amount);
    const booked = ledger.mint({ to, amount, ...(key ? { key } : {}) });
    assertSameBooking(request, booked, {
      reason: 'mint',
      postings: [
        { account: MINT, amount: -amount },
        { account: to, amount },
      ],
    });
    await ledger.sync();
    return reply
      .code(booked.duplicate ? 200 : 201)
      .send({ to, amount: tokens(amount), balance: tokens(ledger.balance(to)) } satisfies MintView);
  });

  app.get('/api/epochs/current', async (): Promise<CurrentEpochView> => {
    const epoch = ledger.epochs.current();
    return {
      epoch: epoch.epoch,
      started_at: epoch.startedAt,
      ends_at: epoch.startedAt + ledger.config.epochMs,
      formula: ledger.config.rewards.formula,
    };
  });

  app.get<{ Params: { epoch: string } }>('/api/epochs/:epoch', async (request) => {
    const epoch = Number(request.params.epoch);
    const report = Number.isSafeInteger(epoch) ? ledger.epochs.report(epoch) : undefined;
    if (!report) throw new NotFoundError('epoch', `No closed epoch '${request.params.epoch}'.`);
    return epochView(report);
  });

  app.post('/api/epochs/close', async (request) => {
    requireOperator(request, 'close epochs');
    const body = parseBody(closeRequest, request.body ?? {});
    const report = services.epochs.close(body.epoch);
    await ledger.sync();
    return epochView(report);
  });

  app.get('/api/ledger/verify', async (request): Promise<LedgerVerifyView> => {
    requireOperator(request, 'verify the ledger');
    const report = ledger.verify();
    return {
      ok: report.ok,
      entries: report.entries,
      postings: report.postings,
      accounts: report.accounts,
      genesis: tokens(report.genesis),
      minted: tokens(report.minted),
      burned: tokens(report.burned),
      supply: tokens(report.supply),
      problems: report.problems,
    };
  });
}
