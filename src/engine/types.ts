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
  /**
   * Scores only the output after its first `chars` characters, which `tokens` spell (as this scorer split
   * them in an earlier pass): they are teacher-forced as part of the prompt, so a stream's chunks are scored
   * once each (verified streaming). The returned tokens are those after `chars`; promptTokens is the prompt's.
   */
  resume?: { tokens: number[]; chars: number };
};

// The score shapes are wire shapes too (a validator sends them back): defined once in src/protocol.
import type { TokenScores } from '../protocol/messages.js';

export type { NextTokenDistribution, OutputEnd, ScoredToken, TokenScores } from '../protocol/messages.js';

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
