import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { classifyStop, type TokenPieces } from './token-pieces.js';
import {
  type NextTokenDistribution,
  type OutputEnd,
  SAMPLING_TOP_K,
  type ScoredToken,
  type TokenScores,
} from './types.js';

/**
 * Teacher-forced scoring of a claimed output: one controlledEvaluate pass over prompt + output that asks,
 * at every output position, for the raw next-token logits (top list + the claimed token's) and the
 * partition sum. Greedy sampling in the pass leaves the logits untouched, so they are the model's own.
 */

/** A tie closer than this (in logits) is batch-versus-incremental float noise, not a preference. */
const RESEGMENT_EPSILON = 1e-3;
/** Bounds the extra passes a pathological text can cost; beyond it the remaining text keeps its tokenization. */
const MAX_RESEGMENTATIONS = 64;
/**
 * Output tokens fed per controlledEvaluate call. A switch of tokenization invalidates everything fed after
 * it, so smaller chunks waste less on texts that need switches; larger ones pay less per-call overhead.
 */
const FEED_CHUNK = 8;
/** Tokens after a switch of tokenization within which a token outside the top list undoes the switch. */
const PROBATION_TOKENS = 4;
/** Attempts to re-split the text around a token outside the top list, and how far back they look. */
const MAX_REPAIRS = 16;
const REPAIR_BACK = 3;
/** How far back from the output's end to look for a token the output could end inside of. */
const MAX_TAIL_TOKENS = 4;
/** Greedy steps taken past the output to see whether a partly matched stop string completes. */
const MAX_STOP_EXTENSION = 8;

type Distribution = NextTokenDistribution & { claimedLogit: number };

export type ScoreOutputOptions = {
  model: LlamaModel;
  sequence: LlamaContextSequence;
  pieces: TokenPieces;
  /** Prompt tokens exactly as generation evaluated them, BOS included. */
  prefix: Token[];
  output: string;
  /** Request stop strings plus the template's, as strings. */
  stops: string[];
  signal?: AbortSignal | undefined;
  /**
   * The output was decoded greedily (default): where the model's top token spells the text differently,
   * generation took that split. A sampled output keeps its canonical split (its tokens need not be the top).
   */
  greedy?: boolean | undefined;
};

/** Runs the teacher-forced pass on a sequence the caller holds exclusively. */
export async function scoreOutput(options: ScoreOutputOptions): Promise<TokenScores> {
  const { model, sequence, pieces, prefix, output, stops, signal } = options;
  if (prefix.length === 0) throw new Error('scoring needs at least one prompt token (BOS or text)');
  let evaluatedTokens = 0;
  const tokenize = (text: string): Token[] =>
    text === '' ? [] : model.tokenize(text, false, 'trimLeadingSpace');

  /** Feeds tokens after what the sequence holds; returns a distribution per fed token from `from` on. */
  const feed = async (
    tokens: Token[],
    from: number,
    claimedAt: (index: number) => Token | undefined,
  ): Promise<Distribution[]> => {
    signal?.throwIfAborted();
    const input: ControlledEvaluateInputItem[] = tokens.map((token, index) => {
      if (index < from) return token;
      const claimed = claimedAt(index);
      return [
        token,
        {
          generateNext: {
            logits: {
              filter: { tokens: claimed === undefined ? [] : [claimed], includeTop: SAMPLING_TOP_K },
            },
            totalLogitWeight: true,
          },
        },
      ];
    });
    const results = await sequence.controlledEvaluate(input);
    evaluatedTokens += tokens.length;
    const out: Distribution[] = [];
    for (let index = from; index < tokens.length; index++) {
      const next = results[index]?.next;
      if (!next?.logits || next.totalLogitWeight === undefined) throw new Error('engine returned no logits');
      const sorted = [...next.logits.entries()].sort((a, b) => b[1] - a[1]).slice(0, SAMPLING_TOP_K);
      const topLogit = sorted[0]?.[1] ?? 0;
      const claimed = claimedAt(index);
      out.push({
        logSumExp: topLogit + Math.log(next.totalLogitWeight),
        topTokens: sorted.map(([t]) => t),
        topLogits: sorted.map(([, l]) => l),
        claimedLogit:
          // Finite even when missing, so the scores survive JSON on the way to the router.
          claimed === undefined ? Number.NaN : (next.logits.get(claimed) ?? -Number.MAX_VALUE),
      });
    }
    return out;
  };

  // What the sequence already holds of the prefix (an earlier chunk of the same stream, or the prompt
  // evaluated ahead) is kept: evaluation starts after it, at the prefix's last token at the latest (its
  // logits give the first output token's distribution).
  const held = sequence.contextTokens;
  let keep = 0;
  while (keep < prefix.length - 1 && keep < held.length && held[keep] === prefix[keep]) keep++;
  if (keep === 0) await sequence.clearHistory();
  else if (keep < sequence.nextTokenIndex)
    await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  let path = tokenize(output);
  // dists[i] is the distribution path[i] was drawn from; dists[path.length] is the one after the output.
  // The sequence always holds prefix + path[0 .. dists.length - 1).
  let dists = await feed(
    [...prefix.slice(keep), ...path.slice(0, FEED_CHUNK)],
    prefix.length - 1 - keep,
    (index) => path[index + keep - prefix.length + 1],
  );
  /** After a re-segmentation the rest is fed in chunks, so the next one wastes at most a chunk. */
  const ensure = async (i: number): Promise<void> => {
    while (dists.length <= i) {
      const fed = dists.length - 1;
      const chunk = path.slice(fed, fed + FEED_CHUNK);
      dists = [...dists, ...(await feed(chunk, 0, (index) => path[fed + index + 1]))];
    }
  };

  let resegmentations = 0;
  let repairs = 0;
  let textPosition = 0;
  // Byte-fallback pieces (partial UTF-8) do not map to string offsets; past one, keep the tokenization.
  let aligned = true;
  let tail: { index: number; remaining: string; token: Token } | undefined;
  /** Text offset at which path[i] starts. */
  const positions: number[] = [];
  /** Tokens already tried (or abandoned) at a position, so switching always terminates. */
  const tried = new Map<number, Set<Token>>();
  const triedAt = (i: number): Set<Token> => {
    const set = tried.get(i) ?? new Set<Token>();
    tried.set(i, set);
    return set;
  };
  // The last switch of tokenization, on probation: if it runs into a token outside the top list before
  // both splits meet again (and, for a repair, before it is past the token it was meant to fix),
  // generation probably took the original split after all, and the switch is undone.
  let probation:
    | { index: number; oldPath: Token[]; claimedLogit: number; oldBoundaries: Set<number>; mustReach: number }
    | undefined;
  const outsideTop = (d: Distribution): boolean =>
    d.claimedLogit < (d.topLogits.at(-1) ?? Number.NEGATIVE_INFINITY);
  const rewind = async (at: number, newPath: Token[], claimedLogit: number): Promise<void> => {
    path = newPath;
    await sequence.eraseContextTokenRanges([{ start: prefix.length + at, end: sequence.nextTokenIndex }]);
    dists = [...dists.slice(0, at), { ...(dists[at] as Distribution), claimedLogit }];
    textPosition = positions[at] as number;
  };
  /** Switches the tokenization at `at` (on probation); false when the new split would not fit the context. */
  const switchTo = async (at: number, token: Token, logit: number, mustReach = 0): Promise<boolean> => {
    const old = path[at] as Token;
    triedAt(at).add(token).add(old);
    const start = positions[at] as number;
    const rest = tokenize(output.slice(start + pieces.text(token).length));
    // Never let a finer split push the sequence into a context shift, which would change every logit after.
    if (prefix.length + at + 1 + rest.length + MAX_STOP_EXTENSION > sequence.context.contextSize)
      return false;
    const oldPath = path.slice(at);
    const oldBoundaries = new Set<number>();
    let offset = positions[at] as number;
    for (const t of oldPath) {
      offset += pieces.text(t).length;
      oldBoundaries.add(offset);
    }
    const claimedLogit = (dists[at] as Distribution).claimedLogit;
    probation = { index: at, oldPath, claimedLogit, oldBoundaries, mustReach };
    await rewind(at, [...path.slice(0, at), token, ...rest], logit);
    resegmentations++;
    return true;
  };
  /** An untried token in the top list that spells the text at `i` or a few positions before it. */
  const findAlternative = (i: number): { index: number; token: Token; logit: number } | undefined => {
    for (let index = i; index >= 0 && index >= i - REPAIR_BACK; index--) {
      const d = dists[index] as Distribution;
      const remaining = output.slice(positions[index] as number);
      const skip = triedAt(index);
      for (let k = 0; k < d.topTokens.length; k++) {
        const token = d.topTokens[k] as Token;
        if (token === path[index] || skip.has(token)) continue;
        const piece = pieces.text(token);
        if (piece.length > 0 && !piece.includes('\uFFFD') && remaining.startsWith(piece)) {
          return { index, token, logit: d.topLogits[k] as number };
        }
      }
    }
    return undefined;
  };

  for (let i = 0; i < path.length; i++) {
    await ensure(i);
    positions[i] = textPosition;
    const dist = dists[i] as Distribution;
    // Once both tokenizations meet at a token boundary again, what follows is not the switch's doing.
    if (
      probation &&
      textPosition >= probation.mustReach &&
      (i > probation.index + PROBATION_TOKENS || probation.oldBoundaries.has(textPosition))
    ) {
      probation = undefined;
    }
    const remaining = output.slice(textPosition);
    if (aligned && resegmentations < MAX_RESEGMENTATIONS) {
      // Several tokenizations spell the same text; generation took the model's choice, not the canonical one.
      const better = betterTokenization(dist, path[i] as Token, remaining, pieces, stops, triedAt(i));
      if (better?.kind === 'inside' && options.greedy !== false) {
        await switchTo(i, better.token, better.logit);
      } else if (better?.kind === 'tail') {
        // The output ends inside this token: generation emitted it and cut the text at a stop string.
        tail = { index: i, remaining, token: better.token };
        path = path.slice(0, i);
        break;
      } else if (outsideTop(dist) && probation) {
        const { index, oldPath, claimedLogit } = probation;
        probation = undefined;
        await rewind(index, [...path.slice(0, index), ...oldPath], claimedLogit);
        i = index - 1;
        continue;
      } else if (outsideTop(dist) && repairs < MAX_REPAIRS) {
        // A token the sampler could not have drawn: maybe generation split the text here (or just before)
        // differently, into tokens it could draw.
        const alternative = findAlternative(i);
        const triggerEnd = textPosition + pieces.text(path[i] as Token).length;
        if (
          alternative &&
          (await switchTo(alternative.index, alternative.token, alternative.logit, triggerEnd))
        ) {
          repairs++;
          i = alternative.index - 1;
          continue;
        }
      }
    }
    const piece = pieces.text(path[i] as Token);
    if (piece.includes('\uFFFD')) aligned = false;
    textPosition += piece.length;
  }
  if (tail === undefined) await ensure(path.length);

  const tokens: ScoredToken[] = path.map((token, i) => {
    const { claimedLogit, ...dist } = dists[i] as Distribution;
    return {
      ...dist,
      token,
      text: pieces.text(token),
      logit: claimedLogit,
      rank: rankOf(dist, claimedLogit),
    };
  });

  const endIndex = tail?.index ?? path.length;
  const { claimedLogit: _unused, ...endDist } = dists[endIndex] as Distribution;
  const remaining = tail?.remaining ?? '';
  // The greedy continuation, or in the tail case the token the output ends inside of.
  const top = tail?.token ?? (endDist.topTokens[0] as Token);
  const eog = tail === undefined && model.isEogToken(top);
  let continuation = eog ? '' : pieces.specialText(top).slice(remaining.length);
  let stop: OutputEnd['stop'] = eog ? 'full' : classifyStop(continuation, stops);
  if (stop === 'partial') {
    // Follow the greedy path a few tokens to see whether the stop string completes.
    const start = prefix.length + endIndex;
    if (start < sequence.nextTokenIndex) {
      await sequence.eraseContextTokenRanges([{ start, end: sequence.nextTokenIndex }]);
    }
    let next = top;
    for (let step = 0; step < MAX_STOP_EXTENSION && stop === 'partial'; step++) {
      const [d] = await feed([next], 0, () => undefined);
      next = d?.topTokens[0] as Token;
      if (model.isEogToken(next)) break;
      continuation += pieces.specialText(next);
      stop = classifyStop(continuation, stops);
    }
  }
  const stopLogit =
    stopCandidate(endDist, remaining, tail === undefined, model, pieces, stops)?.logit ?? null;
  // A sampled output may end inside a token the sampler drew although the model preferred another one;
  // list those endings so a judge can weigh them (the tokens from `position` on are then not the claim's).
  const tails: OutputEnd['tails'] = [];
  if (tail === undefined && stops.length > 0) {
    let suffix = '';
    for (let i = path.length - 1; i >= 0 && path.length - i <= MAX_TAIL_TOKENS; i--) {
      suffix = pieces.text(path[i] as Token) + suffix;
      const candidate = stopCandidate(dists[i] as Distribution, suffix, false, model, pieces, stops);
      if (candidate) tails.push({ position: i, ...candidate });
    }
  }

  return {
    tokens,
    end: { ...endDist, eog, continuation, stop, stopLogit, tails },
    promptTokens: prefix.length,
    evaluatedTokens,
    resegmentations,
  };
}

/**
 * The most likely token that ends the output here: end-of-generation (when allowed) or a token that spells
 * `remaining` and then begins a stop string.
 */
function stopCandidate(
  dist: NextTokenDistribution,
  remaining: string,
  allowEog: boolean,
  model: LlamaModel,
  pieces: TokenPieces,
  stops: readonly string[],
): { token: Token; logit: number } | undefined {
  for (let k = 0; k < dist.topTokens.length; k++) {
    const token = dist.topTokens[k] as Token;
    const logit = dist.topLogits[k] as number;
    if (model.isEogToken(token)) {
      if (allowEog) return { token, logit };
      continue;
    }
    const piece = pieces.specialText(token);
    if (piece.length < remaining.length || !piece.startsWith(remaining)) continue;
    if (classifyStop(piece.slice(remaining.length), stops) !== 'none') return { token, logit };
  }
  return undefined;
}

function rankOf(dist: NextTokenDistribution, logit: number): number {
  let rank = 0;
  for (const l of dist.topLogits) if (l > logit) rank++;
  return rank;
}

/**
 * The model's top token when it is not the current one but spells the same text: a prefix of the remaining
 * output ('inside'), or a token the output ends within whose rest begins a stop string ('tail'). Only the
 * top token: greedy generation always took it, and a sampled one is judged on the canonical path otherwise
 * (switching to any better-scoring split can lead into a path the text does not fit).
 */
function betterTokenization(
  dist: Distribution,
  current: Token,
  remaining: string,
  pieces: TokenPieces,
  stops: readonly string[],
  tried: ReadonlySet<Token>,
): { kind: 'inside' | 'tail'; token: Token; logit: number } | undefined {
  const token = dist.topTokens[0] as Token | undefined;
  const logit = dist.topLogits[0];
  if (token === undefined || logit === undefined || token === current || tried.has(token)) return undefined;
  if (logit <= dist.claimedLogit + RESEGMENT_EPSILON) return undefined;
  const piece = pieces.text(token);
  if (piece.length === 0 || piece.includes('\uFFFD')) return undefined;
  if (remaining.startsWith(piece)) return { kind: 'inside', token, logit };
  const special = pieces.specialText(token);
  if (
    special.length > remaining.length &&
    special.startsWith(remaining) &&
    classifyStop(special.slice(remaining.length), stops) !== 'none'
  ) {
    return { kind: 'tail', token, logit };
  }
  return undefined;
}
