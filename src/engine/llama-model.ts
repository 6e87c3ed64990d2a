import {
  type ChatWrapper,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type LlamaText,
  type Token,
} from 'node-llama-cpp';
import { renderChat } from './chat-format.js';
import { assertFitsContext, ContextLengthExceededError } from './errors.js';
import { scoreOutput } from './scoring.js';
import { SlotPool } from './slot-pool.js';
import { stopTriggerStrings, TokenPieces } from './token-pieces.js';
import {
  type ChatMessage,
  type EmbedResult,
  type GenerateParams,
  type GenerateResult,
  type LoadedModel,
  SAMPLING_TOP_K,
  type ScoreInput,
  type ScoreParams,
  type TokenScores,
} from './types.js';

type Slot = { sequence: LlamaContextSequence; completion: LlamaCompletion };

/**
 * One loaded GGUF model: a context with `slots` sequences for generation (each
 * request gets its own sequence, so they are batched together by llama.cpp) and
 * a lazily created embedding context.
 */
export class LlamaLoadedModel implements LoadedModel {
  readonly contextLength: number;
  readonly slots: number;
  private readonly pool: SlotPool<Slot>;
  private embedding: Promise<LlamaEmbeddingContext> | undefined;
  private embedQueue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly pieces: TokenPieces;

  constructor(
    readonly path: string,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
    private readonly threads: number,
    private readonly onDispose: () => void = () => {},
  ) {
    this.contextLength = context.contextSize;
    this.slots = context.totalSequences;
    const slots: Slot[] = [];
    for (let i = 0; i < this.slots; i++) {
      const sequence = context.getSequence();
      slots.push({ sequence, completion: new LlamaCompletion({ contextSequence: sequence }) });
    }
    this.pool = new SlotPool(slots);
    this.pieces = new TokenPieces(model);
  }

  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  /** BOS that LlamaCompletion prepends by itself; counted in promptTokens. */
  private get bosCount(): number {
    return this.model.tokens.shouldPrependBosToken ? 1 : 0;
  }

  complete(prompt: string, params: GenerateParams, onText: (text: string) => void): Promise<GenerateResult> {
    // Same tokenization LlamaCompletion applies to a string input, done here so we can count it.
    return this.generate(this.promptTokens(prompt), [], params, onText);
  }

  private promptTokens(prompt: string): Token[] {
    return this.model.tokenize(prompt, false, this.bosCount ? 'trimLeadingSpace' : undefined);
  }

  chat(
    messages: ChatMessage[],
    params: GenerateParams,
    onText: (text: string) => void,
  ): Promise<GenerateResult> {
    const { tokens, stopTriggers } = renderChat(this.model, this.chatWrapper, messages);
    return this.generate(tokens, stopTriggers, params, onText);
  }

  private async generate(
    tokens: Token[],
    extraStops: LlamaText[],
    params: GenerateParams,
    onText: (text: string) => void,
  ): Promise<GenerateResult> {
    if (this.disposed) throw new Error('model is disposed');
    const promptTokens = tokens.length + this.bosCount;
    assertFitsContext(promptTokens, params.maxTokens, this.contextLength);
    const stops = params.stop.filter((s) => s.length > 0);
    const sampling =
      params.temperature > 0
        ? {
            temperature: params.temperature,
            topP: params.topP,
            // The library's default today; pinned because likelihood verification re-applies this sampler.
            topK: SAMPLING_TOP_K,
            ...(params.seed === undefined ? {} : { seed: params.seed }),
          }
        : { temperature: 0 };

    return this.pool.use(params.signal, async ({ completion }) => {
      const pieces: string[] = [];
      let emitted = 0;
      const res = await completion.generateCompletionWithMeta(tokens, {
        ...sampling,
        maxTokens: params.maxTokens,
        customStopTriggers: [...stops, ...extraStops],
        // OpenAI semantics: no implicit repetition penalty.
        repeatPenalty: false,
        // We already checked prompt + maxTokens fits, so never shift or truncate the prompt.
        disableContextShift: true,
        contextShiftSize: 1,
        ...(params.signal ? { signal: params.signal } : {}),
        onToken: (t) => {
          emitted += t.length;
        },
        onTextChunk: (text) => {
          if (text.length === 0) return;
          pieces.push(text);
          onText(text);
        },
      });
      const stopReason = res.metadata.stopReason;
      const finishReason = stopReason === 'maxTokens' ? 'length' : 'stop';
      // Tokens held back as a possible stop-string prefix are not emitted, but were generated.
      const completionTokens =
        finishReason === 'length' ? params.maxTokens : emitted + (stopReason === 'eogToken' ? 1 : 0);
      // The streamed pieces are the source of truth, so streaming and non-streaming callers agree.
      return { text: pieces.join(''), promptTokens, completionTokens, finishReason };
    });
  }

  async score(input: ScoreInput, output: string, params: ScoreParams): Promise<TokenScores> {
    if (this.disposed) throw new Error('model is disposed');
    // The same prompt tokens and template stops generation used, so the scored sequence is the generated one.
    const rendered =
      'messages' in input
        ? renderChat(this.model, this.chatWrapper, input.messages)
        : { tokens: this.promptTokens(input.prompt), stopTriggers: [] };
    const bos = this.model.tokens.bos;
    const prompt = this.bosCount && bos !== null ? [bos, ...rendered.tokens] : rendered.tokens;
    const resume = params.resume ?? { tokens: [], chars: 0 };
    const resumed = resume.tokens.map((t) => this.pieces.text(t as Token)).join('');
    if (resumed.length !== resume.chars || !output.startsWith(resumed))
      throw new Error('the resumed tokens do not spell the start of the output');
    const prefix = [...prompt, ...(resume.tokens as Token[])];
    const rest = output.slice(resume.chars);
    const outputTokens = rest === '' ? 0 : this.model.tokenize(rest, false, 'trimLeadingSpace').length;
    // Room for the output plus the few greedy steps that check a stop string after it.
    assertFitsContext(prefix.length, outputTokens + 8, this.contextLength);
    const stops = [...params.stop.filter((s) => s.length > 0), ...stopTriggerStrings(rendered.stopTriggers)];
    // The slot whose context already holds most of prompt + resumed tokens: only the rest is evaluated.
    const held = (slot: Slot) => commonLength(slot.sequence.contextTokens, prefix);
    const scores = await this.pool.use(
      params.signal,
      ({ sequence }) =>
        scoreOutput({
          model: this.model,
          sequence,
          pieces: this.pieces,
          prefix,
          output: rest,
          stops,
          signal: params.signal,
          greedy: params.greedy,
        }),
      held,
    );
    return { ...scores, promptTokens: prompt.length };
  }

  private embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.embedding ??= this.model.createEmbeddingContext({
      contextSize: this.contextLength,
      // The whole input must be decoded in one batch to be pooled into one vector.
      batchSize: this.contextLength,
      threads: this.threads,
    });
    return this.embedding;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<EmbedResult> {
    if (this.disposed) throw new Error('model is disposed');
    // One embedding context, so calls run one after another.
    const run = this.embedQueue.then(async () => {
      const ctx = await this.embeddingContext();
      const vectors: number[][] = [];
      let promptTokens = 0;
      for (const text of texts) {
        if (signal?.aborted) throw signal.reason;
        const length = ctx.calculateInputLength(text);
        if (length > this.contextLength) throw new ContextLengthExceededError(length, this.contextLength);
        promptTokens += length;
        const { vector } = await ctx.getEmbeddingFor(text);
        vectors.push([...vector]);
      }
      return { vectors, promptTokens };
    });
    this.embedQueue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    this.pool.close();
    const embedding = this.embedding;
    if (embedding) await (await embedding.catch(() => undefined))?.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

function commonLength(a: readonly Token[], b: readonly Token[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
