export {
  ApiError,
  type Batch,
  type BatchParameters,
  type BatchStatus,
  type ChatCompletion,
  type ChatParameters,
  type ClientOptions,
  type FileObject,
  OmniClient,
} from './client.js';
