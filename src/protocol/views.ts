/**
 * What the router's public routes answer, as TypeScript types: the routes annotate their answers with these
 * (so a route that drifts from its type fails typecheck) and the SDK returns them. Amounts are whole tokens
 * as decimal strings; times are Unix seconds where OpenAI's shapes use them (`created`, `*_at` of files,
 * batches, sessions, logins) and milliseconds elsewhere (the ledger's `at`, `started_at`, `release_at`).
 */
import type { BatchStatus } from './api.js';
import type { TaskOutput } from './messages.js';
import type { NodeDetailView } from './metrics-views.js';

/** OpenAI's list envelope. */
export type ListView<T> = { object: 'list'; data: T[] };

// --- Health and models -------------------------------------------------------------------------------------

/** `GET /health`. */
export type HealthView = { status: 'ok'; nodes: number };

/** One entry of `GET /v1/models`: a model some connected node serves now. */
export type ModelView = {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'omnitensor';
  sha256: string;
  context_length: number;
  quantization: string;
};

/** One entry of `GET /api/models`: the catalog, served or not. */
export type ModelCatalogEntry = {
  name: string;
  sha256: string;
  architecture: string;
  quantization: string;
  parameters: number;
  context_length: number;
  size_bytes: number;
  /** Connected nodes that proved they hold the file. */
  nodes: number;
  /** Whether the router holds the file, so nodes can fetch it from `GET /api/models/{sha256}/file`. */
  downloadable: boolean;
  created: number;
  /** Whether the operator registered the file; false for one only nodes announced (its name is its sha256). */
  registered: boolean;
};

// --- Completions and embeddings ----------------------------------------------------------------------------

/** How an answer was checked (OmniTensor's addition to OpenAI's shapes). */
/**
 * How a streamed answer's text reached the client (docs/verification.md, "Verified streaming"):
 * `verified-prefix`: released as it came, once independent replicas (`checksum`, `redundant:k`) had streamed
 * the same text or a validator's scores of the text so far passed (`likelihood`); `held`: sent whole after
 * the check of the whole answer passed (`embedding`);
 * `unchecked`: sent as the node streamed it (`none`, or `auto` leaving the result unchecked).
 */
export type StreamCheck = 'verified-prefix' | 'held' | 'unchecked';

export type ValidationView = {
  validation: {
    /** The level asked for (`auto` unless the request, session or key says otherwise). */
    requested: string;
    /** The check actually made, or 'none'. */
    level: string;
    verdict: 'pass' | 'unchecked';
    /** Validator node ids, or 'router' for hash comparisons. */
    checked_by: string[];
    /** Streamed answers only (the final chunk): how the text was released. */
    streamed?: StreamCheck;
  };
};

export type UsageView = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** `POST /v1/chat/completions` (and a session prompt) without streaming. */
export type ChatCompletionView = {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: UsageView;
  system_fingerprint: string;
  omnitensor?: ValidationView;
};

/** `omnitensor` of a stream's last chunk (the one with `finish_reason`): its check, node and cost. */
export type StreamReceiptView = { validation?: ValidationView['validation']; node: string; cost?: string };

/** `POST /v1/completions` without streaming. */
export type TextCompletionView = {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; logprobs: null; finish_reason: string }[];
  usage: UsageView;
  omnitensor?: ValidationView;
};

/** `POST /v1/embeddings`; each embedding is floats, or base64 float32 bytes with `encoding_format: 'base64'`. */
export type EmbeddingListView = {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  omnitensor?: ValidationView;
};

// --- Sessions, tasks, nodes --------------------------------------------------------------------------------

/** `/api/sessions/{id}` (seed 004). */
export type SessionView = {
  id: string;
  object: 'session';
  model: string;
  model_sha256: string;
  params: {
    maxTokens?: number;
    temperature?: number;
    topP?: number;
    seed?: number;
    validation?: string;
  };
  created: number;
  budget?: { status: string; escrowed: string; held: string; available: string; expires_at: number | null };
  /** Present (true) on the answer to `DELETE`. */
  closed?: boolean;
};

/** `GET /api/tasks/{id}`: a task of this key, with its output once done. */
export type TaskView = {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  model: string;
  attempts: number;
  /** Milliseconds. */
  created: number;
  node?: string;
  output?: TaskOutput;
  error?: { code: string; message: string; status: number };
};

/** One check of a node's result, with what the check saw. */
export type VerdictView = {
  id: string;
  task_id: string;
  attempt: number;
  level: string;
  outcome: string;
  reason: string;
  validator: string;
  evidence: unknown;
  at: number;
};

/**
 * `GET /api/nodes/{id}`: a node's page (NodeDetailView, issue 11) plus its public record as before: whether it
 * is connected, its reputation per model (`reputation_by_model`; `reputation` is now the best score) and
 * its latest verdicts with their evidence.
 */
export type NodeView = Omit<NodeDetailView, 'verdicts'> & {
  connected: boolean;
  first_seen?: number;
  last_seen?: number;
  tasks_done?: number;
  reputation_by_model: {
    model_sha256: string;
    score: number;
    passes: number;
    fails: number;
    streak: number;
  }[];
  verdicts: (VerdictView & { taskId: string })[];
};

// --- Files and batches (OpenAI's shapes) -------------------------------------------------------------------

/** A file of the Batch API (an uploaded request file, or an output or error file). */
export type FileView = {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
};

export type FileListView = ListView<FileView> & { has_more: boolean };

export type FileDeletedView = { id: string; object: 'file'; deleted: boolean };

/** A problem with the batch as a whole (an empty or oversized input file), not with one line. */
export type BatchErrorView = { code: string; message: string; param: string | null; line: number | null };

/** A batch job. Times are seconds; null until the batch gets there. */
export type BatchView = {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: ListView<BatchErrorView> | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  /** When the completion window ends; lines unanswered by then expire. */
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
};

export type BatchListView = ListView<BatchView> & {
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
};

// --- Login -------------------------------------------------------------------------------------------------

/** A text to sign to log in, and when it stops working (seconds). */
export type LoginChallengeView = { challenge: string; expires_at: number };

/** A login token (use it as the API key), its account, and when it stops working (seconds). */
export type LoginView = { token: string; account: string; expires_at: number };

export type LogoutView = { revoked: boolean };

// --- Ledger (src/router/ledger-routes.ts) ------------------------------------------------------------------

export type StakeView = {
  node: string;
  owner: string | null;
  bonded: string;
  unbonding: string;
  unbondings: { amount: string; release_at: number }[];
  meets_minimum: boolean;
  /** On `GET /api/stakes/{node}`: whether the gate lets the node take paid work now. */
  can_receive_work?: boolean;
};

/** `POST /api/unstake`: the stake after unbonding starts, and when the tokens return to the owner. */
export type UnstakeView = StakeView & { release_at: number };

export type RewardView = {
  epoch: number;
  node: string;
  account: string;
  formula: string;
  inputs: { benchmark: number; tasks: number; uptimeMs: number; speed: number; chainStake?: string };
  terms: Record<string, string>;
  formula_amount: string;
  amount: string;
};

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

export type EntriesPage = ListView<LedgerEntryView> & { has_more: boolean; next_before: number | null };

export type TransferView = { from: string; to: string; amount: string; seq: number; balance: string };

export type MintView = { to: string; amount: string; balance: string };

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

/** `GET /api/epochs/current`: the open epoch. */
export type CurrentEpochView = { epoch: number; started_at: number; ends_at: number; formula: string };

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

/** `GET /api/epochs/{n}/proof/{account}`: an account's leaf in a closed epoch's reward tree and its proof. */
export type EpochProofView = {
  epoch: number;
  /** The leaf's number in the epoch's tree (its claim bit on chain). */
  index: number;
  account: string;
  /** Smallest units (18 decimals), as a decimal string. */
  amount: string;
  proof: string[];
  root: string;
};

/** `GET /api/chain`: the contracts a router is linked to (404 when it runs off chain). */
export type ChainView = {
  chain_id: number;
  rpc: string;
  /** The newest closed epoch (0: none yet), so `claim --all` knows how far to look without an API key. */
  last_closed_epoch: number;
  token: string;
  staking: string;
  rewards: string;
  vault: string;
};

/** `GET /api/epochs/{n}/published`: what a closed epoch paid, public so anyone can recompute its root. */
export type PublishedEpochView = {
  epoch: number;
  /** The hash posted on chain beside the root. */
  report_hash: string;
  root: string;
  /** Amounts in smallest units (18 decimals), as decimal strings. */
  rewards: { node: string; account: string; amount: string }[];
};

/** `POST /api/withdrawals/{id}/voucher`: an EIP-712 voucher the Vault pays once (amount in smallest units). */
export type WithdrawalVoucherView = {
  withdrawal: string;
  account: string;
  amount: string;
  nonce: string;
  deadline: number;
  signature: string;
  vault: string;
  chain_id: number;
};
