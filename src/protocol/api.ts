import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { chatMessage } from './messages.js';

const stop = z
  .union([z.string(), z.array(z.string()).max(4)])
  .optional()
  .nullable();

const sampling = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(1_000_000).optional().nullable(),
  temperature: z.number().min(0).max(2).optional().nullable(),
  top_p: z.number().gt(0).max(1).optional().nullable(),
  seed: z.number().int().optional().nullable(),
  stop,
  stream: z.boolean().optional().nullable(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional().nullable(),
  n: z.literal(1).optional().nullable(),
  user: z.string().optional(),
  /** OmniTensor: how the answer is checked (none, checksum, redundant:k, likelihood, embedding, auto). */
  validation: z.string().max(40).optional().nullable(),
};

/** OpenAI message content may be a string or an array of text parts; only text is supported. */
const messageContent = z.union([
  z.string(),
  z
    .array(z.object({ type: z.literal('text'), text: z.string() }))
    .transform((parts) => parts.map((p) => p.text).join('')),
]);

export const chatCompletionRequest = z
  .object({
    ...sampling,
    messages: z
      .array(
        z.object({
          role: z.enum(['system', 'developer', 'user', 'assistant']),
          content: messageContent,
          name: z.string().optional(),
        }),
      )
      .min(1),
    max_completion_tokens: z.number().int().min(1).optional().nullable(),
  })
  .passthrough();
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

export const completionRequest = z
  .object({ ...sampling, prompt: z.union([z.string(), z.array(z.string()).length(1)]) })
  .passthrough();
export type CompletionRequest = z.infer<typeof completionRequest>;

export const embeddingRequest = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    validation: z.string().max(40).optional().nullable(),
  })
  .passthrough();
export type EmbeddingRequest = z.infer<typeof embeddingRequest>;

export const sessionRequest = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: z.number().int().optional(),
  validation: z.string().max(40).optional(),
});
export type SessionRequest = z.infer<typeof sessionRequest>;

export const sessionPromptRequest = z.object({
  messages: z.array(chatMessage).min(1).optional(),
  prompt: z.string().optional(),
  stream: z.boolean().optional(),
});

/** Parses a request body, turning the first problem into an InvalidParameterError that names the field. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError('body', 'The request body must be a JSON object.');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.length ? issue.path.join('.') : 'body';
  const detail =
    issue?.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue?.message;
  throw new InvalidParameterError(param, `Invalid value for '${param}': ${detail ?? 'invalid'}.`);
}

/** A batch's lifecycle, as OpenAI's Batch API names it. */
export type BatchStatus =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'cancelling'
  | 'cancelled'
  | 'failed'
  | 'expired';
