export {
  ApiError,
  type ChatCompletion,
  type ChatParameters,
  type ClientOptions,
  OmniClient,
} from './client.js';
