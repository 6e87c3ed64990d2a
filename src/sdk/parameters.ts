import type { z } from 'zod';
import type {
  ChatMessage,
  chatCompletionRequest,
  completionRequest,
  embeddingRequest,
  sessionPromptRequest,
  sessionRequest,
} from '../protocol/index.js';

/** Sampling fields shared by chat and text completions. */
type Sampling = {
  model: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
  /** How the answer is checked: none, checksum, redundant:k, likelihood, embedding or auto (default). */
  validation?: string;
};

export type ChatParameters = Sampling & { messages: ChatMessage[] };

export type CompletionParameters = Sampling & { prompt: string };

export type EmbeddingParameters = {
  model: string;
  input: string | string[];
  /** 'base64': each embedding comes as base64 float32 bytes instead of numbers. */
  encoding_format?: 'float' | 'base64';
  validation?: string;
};

export type SessionParameters = {
  model: string;
  /** Whole tokens escrowed from the account for the session's prompts. */
  budget?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  validation?: string;
};

/** A prompt in a session: the conversation so far, or one user text. */
export type SessionPromptParameters = { messages: ChatMessage[] } | { prompt: string };

export type BatchParameters = {
  input_file_id: string;
  endpoint: '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings';
  completion_window?: '24h';
  metadata?: Record<string, string>;
};

// Each parameter type must be a body the router's schema (src/protocol/api.ts) accepts: a change to either
// side that breaks this fails typecheck here, not at run time.
type Accepts<Schema extends z.ZodTypeAny, Body extends z.input<Schema>> = Body;
export type ParameterChecks = [
  Accepts<typeof chatCompletionRequest, ChatParameters>,
  Accepts<typeof completionRequest, CompletionParameters>,
  Accepts<typeof embeddingRequest, EmbeddingParameters>,
  Accepts<typeof sessionRequest, SessionParameters>,
  Accepts<typeof sessionPromptRequest, SessionPromptParameters>,
];
