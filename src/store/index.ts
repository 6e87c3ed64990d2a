export { LOGIN_TOKEN_PREFIX, type LoginToken, LoginTokenStore } from './accounts.js';
export {
  type BatchError,
  type BatchLine,
  type BatchRecord,
  BatchStore,
  inInputOrder,
} from './batches.js';
export { type Db, openDatabase } from './database.js';
export { type FilePurpose, type FileRecord, FileStore } from './files.js';
export {
  accountOf,
  type KeyCreateOptions,
  type KeyIdentity,
  type KeyRole,
  KeyStore,
  LOGIN_KEY_LABEL,
} from './keys.js';
export {
  type AccountEntry,
  type EpochRecord,
  type EscrowRecord,
  type EscrowStatus,
  type LedgerBatch,
  type LedgerEntry,
  type LedgerPosting,
  type LedgerState,
  LedgerStore,
  type RewardRecord,
  type ScannedPosting,
  type StakeRecord,
  type Unbonding,
  type WithdrawalRecord,
  type WithdrawalStatus,
} from './ledger.js';
export {
  DEFAULT_TIERS,
  MetricSeriesStore,
  type NetworkMetricPoint,
  type NodeMetricPoint,
  type SeriesTiers,
  seriesRowBound,
} from './metric-series.js';
export { type ModelRecord, ModelStore, type StoredModel } from './models.js';
export { type NodeDirectoryEntry, NodeDirectoryStore } from './node-directory.js';
export { NodeStore } from './nodes.js';
export { PaymentStore, type TaskPaymentRecord } from './payments.js';
export { type SessionParams, type SessionRecord, SessionStore } from './sessions.js';
export { type ResultRecord, type TaskRecord, type TaskStatus, TaskStore } from './tasks.js';
export { type StoredVerdict, VerdictStore } from './verdicts.js';
