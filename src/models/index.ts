export { certificateProblem } from './certificate-error.js';
export {
  DownloadError,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  downloadFile,
  HashMismatchError,
} from './download.js';
export {
  type GgufHeader,
  type GgufInfo,
  type GgufTensorInfo,
  type GgufValue,
  readGgufHeader,
  readGgufInfo,
} from './gguf-reader.js';
export {
  dequantizeQ8_0,
  encodeGguf,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  type GgufDocument,
  type GgufMetaValue,
  type GgufTensor,
  GgufValueType,
  quantizeQ8_0,
  type WritableTensorType,
  writeGguf,
} from './gguf-writer.js';
export { sha256File } from './hash.js';
export { possessionDigest } from './possession.js';
export { downloadProgressBar, formatBytes, type ProgressBar } from './progress.js';
export {
  createTinyModel,
  mulberry32,
  TINY_MODEL_DIMS,
  type TinyModelOptions,
  writeTinyModel,
} from './tiny-model.js';
export { buildTinyVocab, TokenType, type Vocab } from './tiny-vocab.js';
