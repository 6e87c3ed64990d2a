import type { LedgerStore } from '../store/index.js';
import {
  accountKind,
  BURN,
  DEPOSITS,
  escrowAccount,
  GENESIS,
  isIssuance,
  MINT,
  unbondingAccount,
  WITHDRAWALS,
} from './accounts.js';

/** What `verifyLedger` found: `ok` when `problems` is empty. Supply counts every account but the issuance ones and `burn`. */
export type VerifyReport = {
  ok: boolean;
  entries: number;
  postings: number;
  accounts: number;
  genesis: bigint;
  minted: bigint;
  burned: bigint;
  supply: bigint;
  problems: string[];
};

const MAX_PROBLEMS = 100;

/** The only reasons allowed to move each issuance or sink account. */
const ONLY_BY: Record<string, string> = {
  [GENESIS]: 'genesis',
  [MINT]: 'mint',
  [DEPOSITS]: 'deposit',
  [BURN]: 'withdrawal_settle',
};

/**
 * Checks the whole stored history: every entry balanced; no account other than genesis and mint ever below
 * zero (in history order); genesis, mint and burn moved only by their own reasons; supply = genesis + minted −
 * burned; the balance cache and each account's history equal to what the log derives up to the checkpoint;
 * and the state beside the entries
 * (holds within escrow balances, unbonding records summing to unbonding balances, pending withdrawals summing
 * to the `withdrawals` account). Reads the store only, so `otensor-cli ledger verify --data DIR` can run it.
 */
export function verifyLedger(store: LedgerStore): VerifyReport {
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
  };
  const derived = new Map<string, bigint>();
  let seq = -1;
  let reason = '';
  let sum = 0n;
  let touched: string[] = [];
  let postings = 0;
  const checkpointSeq = store.checkpointSeq();
  let atCheckpoint: Map<string, bigint> | undefined;
  let postingsAtCheckpoint = 0;
  const endEntry = () => {
    if (seq < 0) return;
    if (sum !== 0n) problem(`entry ${seq} (${reason}) does not balance: its postings sum to ${sum}`);
    for (const account of touched) {
      const balance = derived.get(account) ?? 0n;
      if (balance < 0n && !isIssuance(account))
        problem(`account ${account} is below zero (${balance}) after entry ${seq}`);
    }
  };
  for (const p of store.scan()) {
    if (p.seq !== seq) {
      endEntry();
      if (p.seq > checkpointSeq && !atCheckpoint) {
        atCheckpoint = new Map(derived);
        postingsAtCheckpoint = postings;
      }
      seq = p.seq;
      reason = p.reason;
      sum = 0n;
      touched = [];
    }
    postings++;
    sum += p.amount;
    touched.push(p.account);
    derived.set(p.account, (derived.get(p.account) ?? 0n) + p.amount);
    if (accountKind(p.account) === undefined)
      problem(`entry ${p.seq} posts to '${p.account}', which is no account`);
    const only = ONLY_BY[p.account];
    if (only && only !== p.reason)
      problem(`entry ${p.seq} (${p.reason}) moves ${p.account}, which only ${only} may`);
    if ((isIssuance(p.account) && p.amount > 0n) || (p.account === BURN && p.amount < 0n)) {
      problem(`entry ${p.seq} moves ${p.account} the wrong way (${p.amount})`);
    }
  }
  endEntry();
  if (!atCheckpoint) {
    atCheckpoint = derived;
    postingsAtCheckpoint = postings;
  }

  const genesis = -(derived.get(GENESIS) ?? 0n);
  const minted = -(derived.get(MINT) ?? 0n);
  const burned = derived.get(BURN) ?? 0n;
  const deposited = -(derived.get(DEPOSITS) ?? 0n);
  let supply = 0n;
  for (const [account, balance] of derived) if (!isIssuance(account) && account !== BURN) supply += balance;
  if (supply !== genesis + minted + deposited - burned) {
    problem(
      `supply ${supply} is not genesis ${genesis} + minted ${minted} + deposited ${deposited} - burned ${burned}`,
    );
  }

  // The derived tables are complete up to the checkpoint: compare them with the log at that point.
  const cached = store.balances();
  const history = store.historySums();
  for (const account of new Set([...cached.keys(), ...history.keys(), ...atCheckpoint.keys()])) {
    const want = atCheckpoint.get(account) ?? 0n;
    const have = cached.get(account) ?? 0n;
    if (want !== have) problem(`account ${account}: cached balance ${have} but its entries sum to ${want}`);
    const listed = history.get(account) ?? 0n;
    if (want !== listed)
      problem(`account ${account}: its history sums to ${listed} but its entries to ${want}`);
  }

  const counts = store.counts();
  if (counts.orphanPostings > 0) problem(`${counts.orphanPostings} postings belong to no entry`);
  if (counts.history !== postingsAtCheckpoint) {
    problem(
      `account histories hold ${counts.history} postings but the log ${postingsAtCheckpoint} up to entry ${checkpointSeq}`,
    );
  }
  checkState(store, derived, problem);
  return {
    ok: problems.length === 0,
    entries: counts.entries,
    postings,
    accounts: derived.size,
    genesis,
    minted,
    burned,
    supply,
    problems,
  };
}

function checkState(
  store: LedgerStore,
  balances: Map<string, bigint>,
  problem: (text: string) => void,
): void {
  const state = store.state();
  const balance = (account: string) => balances.get(account) ?? 0n;
  const live = new Set<string>();
  for (const e of state.escrows) {
    live.add(escrowAccount(e.session));
    let held = 0n;
    for (const amount of e.holds.values()) held += amount;
    if (held > balance(escrowAccount(e.session)))
      problem(`escrow ${e.session} holds ${held}, more than its balance`);
  }
  // A finished escrow returned everything: only live ones may hold tokens.
  for (const [account, amount] of balances) {
    if (accountKind(account) === 'escrow' && amount !== 0n && !live.has(account)) {
      problem(`${account} is closed but still holds ${amount}`);
    }
  }
  for (const s of state.stakes) {
    const waiting = s.unbondings.reduce((sum, u) => sum + u.amount, 0n);
    if (waiting !== balance(unbondingAccount(s.node))) {
      problem(
        `node ${s.node}: unbonding records sum to ${waiting} but ${unbondingAccount(s.node)} holds ${balance(unbondingAccount(s.node))}`,
      );
    }
  }
  const locked = state.withdrawals.reduce((sum, w) => sum + w.amount, 0n);
  if (locked !== balance(WITHDRAWALS)) {
    problem(`pending withdrawals sum to ${locked} but ${WITHDRAWALS} holds ${balance(WITHDRAWALS)}`);
  }
}
