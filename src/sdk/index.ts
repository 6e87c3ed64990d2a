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
