import { InvalidParameterError } from '../protocol/index.js';

/**
 * Account ids. People and nodes are Ethereum addresses (lowercase 0x + 40 hex); everything else is a system
 * account named here. Only the issuance accounts may go below zero: their negative balance is what was issued.
 */
export const GENESIS = 'genesis';
/** Source of test-network mints. */
export const MINT = 'mint';
/** Source of tokens that came in from chain through the Vault (issue 13): its negative balance is what came in. */
export const DEPOSITS = 'deposits';
/** Sink of tokens that left this ledger (settled withdrawals now live on chain). */
export const BURN = 'burn';
/** Platform fees and the treasury's share of slashes. */
export const TREASURY = 'treasury';
/** The pool epoch rewards are paid from (funded by genesis or mint). */
export const REWARDS = 'rewards';
/** Amounts locked by pending withdrawal requests. */
export const WITHDRAWALS = 'withdrawals';

/** A session's escrowed budget. */
export const escrowAccount = (session: string) => `escrow:${session}`;
/** A node's bonded stake (counts for rewards and the minimum; slashable). */
export const stakeAccount = (node: string) => `stake:${node}`;
/** A node's unstaked amount waiting out the unbonding period (still slashable, earns nothing). */
export const unbondingAccount = (node: string) => `unbonding:${node}`;

export type AccountKind =
  | 'address'
  | 'genesis'
  | 'mint'
  | 'deposits'
  | 'burn'
  | 'treasury'
  | 'rewards'
  | 'withdrawals'
  | 'escrow'
  | 'stake'
  | 'unbonding';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SYSTEM: Record<string, AccountKind> = {
  [GENESIS]: 'genesis',
  [MINT]: 'mint',
  [DEPOSITS]: 'deposits',
  [BURN]: 'burn',
  [TREASURY]: 'treasury',
  [REWARDS]: 'rewards',
  [WITHDRAWALS]: 'withdrawals',
};

/** What kind of account an id names, or undefined when it names none. */
export function accountKind(account: string): AccountKind | undefined {
  if (ADDRESS.test(account)) return account === account.toLowerCase() ? 'address' : undefined;
  const system = SYSTEM[account];
  if (system) return system;
  const colon = account.indexOf(':');
  if (colon <= 0 || colon === account.length - 1) return undefined;
  const prefix = account.slice(0, colon);
  return prefix === 'escrow' || prefix === 'stake' || prefix === 'unbonding' ? prefix : undefined;
}

/** Issuance accounts: the only ones whose balance may be negative. */
export const isIssuance = (account: string) =>
  account === GENESIS || account === MINT || account === DEPOSITS;

/** Checks and lowercases an Ethereum address; `param` names the field in the error. */
export function normalizeAddress(text: string, param = 'address'): string {
  if (typeof text !== 'string' || !ADDRESS.test(text)) {
    throw new InvalidParameterError(
      param,
      `${param} '${String(text)}' is not an Ethereum address (0x and 40 hex digits).`,
    );
  }
  return text.toLowerCase();
}

/** Accounts a plain transfer may move from or to: addresses, the treasury and the rewards pool. */
export function normalizeHolder(text: string, param: string): string {
  if (text === TREASURY || text === REWARDS) return text;
  return normalizeAddress(text, param);
}
