/** Shapes of the router's ledger API (src/router/ledger-routes.ts). Amounts are whole tokens as decimal strings. */

export type AccountView = {
  account: string;
  balance: string;
  /** Present for addresses (system accounts show only their balance). */
  staked?: string;
  unbonding?: string;
  escrowed?: string;
  pending_withdrawals?: string;
  earned_this_epoch?: string;
  epoch?: number;
  stakes?: StakeView[];
  rewards?: RewardView[];
};

export type LedgerEntryView = {
  seq: number;
  at: number;
  reason: string;
  reference: string | null;
  key: string;
  /** What the entry did to the account asked about. */
  amount: string;
  postings: { account: string; amount: string }[];
};

export type EntriesPage = { data: LedgerEntryView[]; has_more: boolean; next_before: number | null };

export type StakeView = {
  node: string;
  owner: string | null;
  bonded: string;
  unbonding: string;
  unbondings: { amount: string; release_at: number }[];
  meets_minimum: boolean;
  can_receive_work?: boolean;
  release_at?: number;
};

export type WithdrawalView = {
  id: string;
  account: string;
  amount: string;
  to: string;
  status: 'pending' | 'settled' | 'cancelled';
  settlement: string | null;
  created_at: number;
  updated_at: number;
};

export type RewardView = {
  epoch: number;
  node: string;
  account: string;
  formula: string;
  inputs: { benchmark: number; tasks: number; uptimeMs: number; speed: number };
  terms: Record<string, string>;
  formula_amount: string;
  amount: string;
};

export type EpochReportView = {
  epoch: number;
  started_at: number;
  closed_at: number;
  formula: string;
  duration_ms: number;
  total: string;
  paid: string;
  pool: string;
  scaled: boolean;
  terms: Record<string, string>;
  rewards: RewardView[];
};

export type LedgerInfo = {
  decimals: number;
  fee: string;
  minimum_stake: string;
  unbonding_ms: number;
  slash: string;
  slash_validator_share: string;
  allow_mint: boolean;
  epoch_ms: number;
  epoch: { epoch: number; started_at: number };
  rewards: {
    formula: string;
    base_per_hour: string;
    bonus_per_task: string;
    alpha_per_hour: string;
    pool: string;
  };
  prices: { model: string; sha256: string; input: string; output: string }[];
};

export type LedgerVerifyView = {
  ok: boolean;
  entries: number;
  postings: number;
  accounts: number;
  genesis: string;
  minted: string;
  burned: string;
  supply: string;
  problems: string[];
};

export type SessionView = {
  id: string;
  object: 'session';
  model: string;
  model_sha256: string;
  params: Record<string, unknown>;
  created: number;
  budget?: { status: string; escrowed: string; held: string; available: string; expires_at: number | null };
  closed?: boolean;
};

export type SessionParameters = {
  model: string;
  /** Whole tokens escrowed from the account for the session's prompts. */
  budget?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  validation?: string;
};
