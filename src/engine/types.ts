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
