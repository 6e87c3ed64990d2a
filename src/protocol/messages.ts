import { z } from 'zod';

/** Version of the router <-> node WebSocket protocol; bumped on incompatible changes. */
export const PROTOCOL_VERSION = 1;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
export const sha256Schema = hex(32);
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
/** EIP-191 signature (65 bytes), used for the hello. */
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/);
/** Ed25519 (64 bytes) by the result key the hello certified; see signing.ts. */
const resultSignature = z.string().regex(/^0x[0-9a-fA-F]{128}$/);
const id = z.string().min(1).max(100);

export const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const generationParams = z.object({
  maxTokens: z.number().int().min(1),
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).max(4),
});
export type GenerationParams = z.infer<typeof generationParams>;

/**
 * A check of another node's answer (validators only): one teacher-forced pass of the model over the
 * original prompt (or messages) followed by the claimed output, returning per-token scores.
 */
export const scoreInput = z.object({
  kind: z.literal('score'),
  target: z.union([z.object({ prompt: z.string() }), z.object({ messages: z.array(chatMessage).min(1) })]),
  output: z.string(),
  stop: z.array(z.string()).max(4),
  /** The output was decoded greedily (temperature 0). */
  greedy: z.boolean().optional(),
  /**
   * Verified streaming: the output's first `chars` characters were scored before (by this validator, into
   * these tokens); score only the rest, reusing the context that holds them (src/engine ScoreParams).
   */
  resume: z
    .object({
      tokens: z.array(z.number().int().nonnegative()).max(100_000),
      chars: z.number().int().nonnegative(),
    })
    .optional(),
});
export type ScoreTaskInput = z.infer<typeof scoreInput>;

/** What a task asks the node to do. */
export const taskInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('chat'), messages: z.array(chatMessage).min(1), params: generationParams }),
  z.object({ kind: z.literal('completion'), prompt: z.string(), params: generationParams }),
  z.object({ kind: z.literal('embedding'), input: z.array(z.string()).min(1) }),
  scoreInput,
]);
export type TaskInput = z.infer<typeof taskInput>;

/**
 * The model's raw next-token distribution at one position (temperature 1, no truncation), kept compact:
 * the engine's SAMPLING_TOP_K highest logits are enough to re-apply any top-k/top-p/temperature sampler.
 */
const distribution = {
  /** log of the sum of exp(logit) over the whole vocabulary, so log p(t) = logit(t) - logSumExp. */
  logSumExp: z.number(),
  /** Highest first. */
  topTokens: z.array(z.number().int()).max(256),
  topLogits: z.array(z.number()).max(256),
};
export type NextTokenDistribution = z.infer<z.ZodObject<typeof distribution>>;

/** One output token under teacher forcing: the distribution it was drawn from and where it stands in it. */
const scoredToken = z.object({
  ...distribution,
  token: z.number().int(),
  text: z.string(),
  logit: z.number(),
  /** 0 for the most likely token; SAMPLING_TOP_K when outside the top list. */
  rank: z.number().int(),
});
export type ScoredToken = z.infer<typeof scoredToken>;

/** Where generation would go right after the claimed output. */
const outputEnd = z.object({
  ...distribution,
  /** The most likely next token ends generation (end-of-generation token). */
  eog: z.boolean(),
  /** The most likely continuation text (greedy), starting exactly at the output's end. */
  continuation: z.string(),
  /** The greedy continuation begins a stop string or template stop ('full'), is a prefix of one ('partial'). */
  stop: z.enum(['full', 'partial', 'none']),
  /**
   * Highest logit among candidate tokens that would end the output here: end-of-generation tokens and tokens
   * whose text begins (or is the start of) a stop string; null when none is in the top list.
   */
  stopLogit: z.number().nullable(),
  /**
   * Other ways the output could have ended at a stop string: inside a token drawn at `position` (the
   * distribution is tokens[position]'s) whose text runs past the output's end into a stop string.
   */
  tails: z
    .array(z.object({ position: z.number().int(), token: z.number().int(), logit: z.number() }))
    .max(64),
});
export type OutputEnd = z.infer<typeof outputEnd>;

/**
 * A claimed output scored by one teacher-forced pass of the model over prompt + output: what the engine's
 * `score` returns and a validator sends back, one type for both (src/engine re-exports it).
 */
export const tokenScores = z.object({
  tokens: z.array(scoredToken).max(100_000),
  end: outputEnd,
  promptTokens: z.number().int().min(0),
  /** Tokens the engine evaluated for this score (prompt, output, re-segmentation): its compute cost. */
  evaluatedTokens: z.number().int().min(0),
  /** Times the output was re-tokenized to follow the model's own choice between equal-text tokenizations. */
  resegmentations: z.number().int().min(0),
});
export type TokenScores = z.infer<typeof tokenScores>;

/** What a node returns for a task; `output` is what the output hash covers. */
export const taskOutput = z.object({
  text: z.string().optional(),
  embeddings: z.array(z.array(z.number())).optional(),
  scores: tokenScores.optional(),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  finishReason: z.enum(['stop', 'length']).optional(),
});
export type TaskOutput = z.infer<typeof taskOutput>;

export const modelAnnouncement = z.object({
  sha256: sha256Schema,
  name: z.string().max(200),
  architecture: z.string().max(100),
  quantization: z.string().max(50),
  parameterCount: z.number().int().min(0),
  contextLength: z.number().int().min(1),
  sizeBytes: z.number().int().min(0),
  tokensPerSecond: z.number().min(0),
  slots: z.number().int().min(1).max(256),
});
export type ModelAnnouncement = z.infer<typeof modelAnnouncement>;

export const hardware = z.object({
  nodeType: z.enum(['desktop-gpu', 'apple', 'cpu', 'other']),
  cpuCores: z.number().int().min(1),
  cpuModel: z.string().max(200),
  memoryBytes: z.number().min(0),
  gpus: z.array(
    z.object({ type: z.string().max(50), name: z.string().max(200), vramBytes: z.number().min(0) }),
  ),
  threads: z.number().int().min(1),
});
export type Hardware = z.infer<typeof hardware>;

// ---- node -> router ----

export const helloMessage = z.object({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  nodeId: address,
  wallet: address.optional(),
  /** Generate (worker), check others' results (validator), or both; absent means worker. */
  roles: z
    .array(z.enum(['worker', 'validator']))
    .min(1)
    .max(2)
    .optional(),
  challenge: z.string().min(16).max(128),
  /** Ed25519 public key (base64url) that signs this node's results on this connection. */
  resultKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  hardware,
  models: z.array(modelAnnouncement).min(1).max(64),
  signature,
});
export type HelloMessage = z.infer<typeof helloMessage>;

/**
 * A node's own figures (issue 11), sent with its periodic heartbeat: numbers only, so the router keeps a small
 * fixed-size record per node. Null where the node cannot read a figure (no GPU, no power sensor).
 */
export const nodeMetricsSample = z.object({
  /** Output tokens per second over the last minute (throughput). */
  tokensPerSecond: z.number().min(0).max(1e9),
  /** Tokens/s while working times the model's FLOPs per token (2 x parameters); the benchmark's when idle. */
  flops: z.number().min(0).max(1e21),
  gpuUtilization: z.number().min(0).max(100).nullable(),
  cpuUtilization: z.number().min(0).max(100).nullable(),
  memoryUsedBytes: z.number().min(0).max(1e16).nullable(),
  powerWatts: z.number().min(0).max(1e6).nullable(),
  temperatureC: z.number().min(-100).max(300).nullable(),
  tasksDone: z.number().int().min(0),
  tasksFailed: z.number().int().min(0),
});
export type NodeMetricsSample = z.infer<typeof nodeMetricsSample>;

export const heartbeatMessage = z.object({
  type: z.literal('heartbeat'),
  sentAt: z.number(),
  running: z.number().int().min(0),
  /** Echo of the router's last ping time, for round-trip measurement. */
  pingEcho: z.number().optional(),
  metrics: nodeMetricsSample.optional(),
});

/** A batch of streamed text for a running task; provisional until the signed result arrives. */
export const taskChunkMessage = z.object({
  type: z.literal('chunk'),
  taskId: id,
  attempt: z.number().int().min(1),
  seq: z.number().int().min(0),
  text: z.string(),
});

export const taskResultMessage = z.object({
  type: z.literal('result'),
  taskId: id,
  attempt: z.number().int().min(1),
  modelSha256: sha256Schema,
  outputSha256: sha256Schema,
  nonce: z.string().regex(/^[0-9]{1,30}$/),
  output: taskOutput,
  signature: resultSignature,
});
export type TaskResultMessage = z.infer<typeof taskResultMessage>;

/** One result inside a `results` batch: a `result` without its own type and signature. */
export const batchedResult = taskResultMessage.omit({ type: true, signature: true });
export type BatchedResult = z.infer<typeof batchedResult>;

/**
 * Several results under ONE signature (over resultsClaimText: the hash of their claim texts, in order), so the
 * router verifies once per batch. Nonces rise strictly within the batch; all must exceed the node's last one.
 */
export const taskResultsMessage = z.object({
  type: z.literal('results'),
  results: z.array(batchedResult).min(1).max(256),
  signature: resultSignature,
});
export type TaskResultsMessage = z.infer<typeof taskResultsMessage>;

export const taskErrorMessage = z.object({
  type: z.literal('task_error'),
  taskId: id,
  attempt: z.number().int().min(1),
  code: z.string().max(100),
  message: z.string().max(2000),
  /** True when running the task again elsewhere cannot help (bad input, prompt too long). */
  final: z.boolean(),
  promptTokens: z.number().int().optional(),
  contextLength: z.number().int().optional(),
});
export type TaskErrorMessage = z.infer<typeof taskErrorMessage>;

/** The node gives tasks back unstarted or unfinished (it is shutting down). */
export const releaseMessage = z.object({
  type: z.literal('release'),
  tasks: z.array(z.object({ taskId: id, attempt: z.number().int().min(1) })).max(1000),
});

/** Answer to `prove`: sha256 of the nonce followed by the requested bytes of the model file. */
export const proofMessage = z.object({
  type: z.literal('proof'),
  sha256: sha256Schema,
  nonce: z.string().min(16).max(128),
  digest: sha256Schema,
});

export const nodeMessage = z.discriminatedUnion('type', [
  helloMessage,
  heartbeatMessage,
  taskChunkMessage,
  taskResultMessage,
  taskResultsMessage,
  taskErrorMessage,
  releaseMessage,
  proofMessage,
]);
export type NodeMessage = z.infer<typeof nodeMessage>;

// ---- router -> node ----

export const challengeMessage = z.object({ type: z.literal('challenge'), challenge: z.string() });
export const welcomeMessage = z.object({
  type: z.literal('welcome'),
  nodeId: address,
  heartbeatMs: z.number().int().min(100),
});
export const taskMessage = z.object({
  type: z.literal('task'),
  taskId: id,
  attempt: z.number().int().min(1),
  modelSha256: sha256Schema,
  input: taskInput,
  deadline: z.number(),
});
export type TaskMessage = z.infer<typeof taskMessage>;
export const cancelMessage = z.object({ type: z.literal('cancel'), taskId: id, attempt: z.number().int() });
export const pingMessage = z.object({ type: z.literal('ping'), sentAt: z.number() });
export const rejectMessage = z.object({ type: z.literal('reject'), reason: z.string() });
/**
 * Proof of possession: the router, holding the same file, asks for a hash over a random byte range it
 * chooses, so a node cannot claim a model by its sha256 alone.
 */
export const proveMessage = z.object({
  type: z.literal('prove'),
  sha256: sha256Schema,
  offset: z.number().int().min(0),
  length: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024),
  nonce: z.string().min(16).max(128),
});
export type ProveMessage = z.infer<typeof proveMessage>;

export const routerMessage = z.discriminatedUnion('type', [
  challengeMessage,
  welcomeMessage,
  taskMessage,
  cancelMessage,
  pingMessage,
  rejectMessage,
  proveMessage,
]);
export type RouterMessage = z.infer<typeof routerMessage>;
