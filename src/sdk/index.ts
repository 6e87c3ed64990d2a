export type { BatchStatus } from '../protocol/index.js';
export {
  ApiError,
  type Batch,
  type BatchParameters,
  type ChatCompletion,
  type ChatParameters,
  type ClientOptions,
  type FileObject,
  OmniClient,
} from './client.js';
export type {
  AccountView,
  EntriesPage,
  EpochReportView,
  LedgerEntryView,
  LedgerInfo,
  LedgerVerifyView,
  RewardView,
  SessionParameters,
  SessionView,
  StakeView,
  WithdrawalView,
} from './ledger-types.js';
export { OmniTensor, type OmniTensorOptions } from './omnitensor.js';
