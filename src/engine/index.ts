export { type BenchmarkOptions, type BenchmarkResult, benchmarkModel } from './benchmark.js';
export { ContextLengthExceededError } from './errors.js';
export { createLlamaEngine } from './llama-engine.js';
export type {
  ChatMessage,
  EmbedResult,
  Engine,
  EngineOptions,
  GenerateParams,
  GenerateResult,
  GpuDescription,
  LoadedModel,
  LoadModelOptions,
  NextTokenDistribution,
  OutputEnd,
  ScoredToken,
  ScoreInput,
  ScoreParams,
  TokenScores,
} from './types.js';
export { SAMPLING_TOP_K } from './types.js';
