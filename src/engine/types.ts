/** The engine's public contract; everything else in the project talks to models through these types. */

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export type GenerateParams = {
  maxTokens: number;
  /** 0 means greedy decoding. */
  temperature: number;
  topP: number;
  /** With temperature > 0, the same seed gives the same text. */
  seed?: number;
  /** Generation ends before any of these strings; the output never contains them. */
  stop: string[];
  /** Aborting rejects the pending call with the signal's reason. */
  signal?: AbortSignal;
};

export type GenerateResult = {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: 'stop' | 'length';
};

export type EmbedResult = { vectors: number[][]; promptTokens: number };

/**
 * How many of the most likely tokens generation samples from (llama.cpp's top-k, applied before top-p and
 * temperature). Pinned here because verification must re-apply the same sampler.
 */
export const SAMPLING_TOP_K = 40;

/** What a claimed output answered: the same prompt or messages the node was given. */
export type ScoreInput = { prompt: string } | { messages: ChatMessage[] };

export type ScoreParams = {
  /** The request's stop strings, so the scorer can tell whether the output ends where generation stops. */
  stop: string[];
  signal?: AbortSignal;
  /** The output was decoded greedily (temperature 0); default true. */
  greedy?: boolean;
};

/**
 * The model's raw next-token distribution at one position (temperature 1, no truncation), kept compact:
 * the SAMPLING_TOP_K highest logits are enough to re-apply any top-k/top-p/temperature sampler.
 */
export type NextTokenDistribution = {
  /** log of the sum of exp(logit) over the whole vocabulary, so log p(t) = logit(t) - logSumExp. */
  logSumExp: number;
  /** Highest first. */
  topTokens: number[];
  topLogits: number[];
};

/** One output token under teacher forcing: the distribution it was drawn from and where it stands in it. */
export type ScoredToken = NextTokenDistribution & {
  token: number;
  text: string;
  logit: number;
  /** 0 for the most likely token; SAMPLING_TOP_K when outside the top list. */
  rank: number;
};

/** Where generation would go right after the claimed output. */
export type OutputEnd = NextTokenDistribution & {
  /** The most likely next token ends generation (end-of-generation token). */
  eog: boolean;
  /** The most likely continuation text (greedy), starting exactly at the output's end. */
  continuation: string;
  /** The greedy continuation begins a stop string or template stop ('full'), is a prefix of one ('partial'). */
  stop: 'full' | 'partial' | 'none';
  /**
   * Highest logit among candidate tokens that would end the output here: end-of-generation tokens and tokens
   * whose text begins (or is the start of) a stop string; null when none is in the top list.
   */
  stopLogit: number | null;
  /**
   * Other ways the output could have ended at a stop string: inside a token drawn at `position` (the
   * distribution is tokens[position]'s) whose text runs past the output's end into a stop string.
   */
  tails: Array<{ position: number; token: number; logit: number }>;
};

/** A claimed output scored by one teacher-forced pass of the model over prompt + output. */
export type TokenScores = {
  tokens: ScoredToken[];
  end: OutputEnd;
  promptTokens: number;
  /** Tokens the engine evaluated for this score (prompt, output, re-segmentation): its compute cost. */
  evaluatedTokens: number;
  /** Times the output was re-tokenized to follow the model's own choice between equal-text tokenizations. */
  resegmentations: number;
};

export interface LoadedModel {
  readonly path: string;
  /** The context size actually used per sequence. */
  readonly contextLength: number;
  /** How many requests it runs at once. */
  readonly slots: number;
  countTokens(text: string): number;
  /** Streams text pieces through onText as they are produced. Resolves when done. */
  complete(prompt: string, params: GenerateParams, onText: (text: string) => void): Promise<GenerateResult>;
  chat(
    messages: ChatMessage[],
    params: GenerateParams,
    onText: (text: string) => void,
  ): Promise<GenerateResult>;
  embed(texts: string[], signal?: AbortSignal): Promise<EmbedResult>;
  /**
   * Scores a claimed output by one teacher-forced pass over the prompt (rendered exactly as complete() or
   * chat() would) followed by the output; the basis of `likelihood` verification.
   */
  score(input: ScoreInput, output: string, params: ScoreParams): Promise<TokenScores>;
  dispose(): Promise<void>;
}

export type LoadModelOptions = {
  threads: number;
  /** Concurrent sequences; requests beyond this wait in a FIFO queue. Default 1. */
  slots?: number;
  /** Per-sequence context size. Default: the model's training context, capped at 4096. */
  contextSize?: number;
  /** Offload layers to the GPU when the engine has one. Default true. */
  gpu?: boolean;
};

export type GpuDescription = { type: string; names: string[]; vramBytes: number };

export interface Engine {
  loadModel(path: string, options: LoadModelOptions): Promise<LoadedModel>;
  dispose(): Promise<void>;
  /** type is 'cpu' when there is no GPU backend. */
  describeGpus(): Promise<GpuDescription>;
}

export type EngineOptions = { gpu?: 'auto' | false; logLevel?: 'error' | 'warn' };
