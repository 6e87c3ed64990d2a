/** Shapes shared by the judges, the policy and the verdict records. */

import type { ValidationLevel } from '../protocol/index.js';

export type { ValidationLevel };

/** A level that actually checks something (what a verdict records). */
export type CheckLevel = 'checksum' | 'redundant' | 'likelihood' | 'embedding';

/** pass/fail are final; undecided means this check cannot tell and a stronger one must follow. */
export type Outcome = 'pass' | 'fail' | 'undecided';

/** Who did a piece of work: a node id (its key's address) and the payout wallet its owner named. */
export type Worker = { nodeId: string; wallet: string };

/** The decoding parameters of the request the output answers (the engine's GenerateParams, minus signal). */
export type DecodingParams = {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed?: number | undefined;
  stop: string[];
};

/** What the node claimed about the output besides its text. */
export type OutputClaim = {
  finishReason: 'stop' | 'length';
  completionTokens: number;
  /** The output text, when the judge should also check the count against it. */
  text?: string | undefined;
};

/** The result of one judge: an outcome, a short reason a person can read, and the evidence behind it. */
export type Judgment<E> = { outcome: Outcome; reason: string; evidence: E };

export type ChecksumEvidence = {
  claimedSha256: string;
  checkSha256: string;
};

export type RedundantEvidence = {
  k: number;
  /** Output hash per node, as submitted. */
  hashes: Array<{ nodeId: string; wallet: string; outputSha256: string }>;
  /** Independent votes per hash: nodes sharing a payout wallet count once. */
  votes: Record<string, number>;
  majoritySha256: string | null;
};

export type LikelihoodThresholds = {
  /** Greedy: a token may trail the top token by at most this many logits (near-tie noise). */
  greedyMargin: number;
  /** Greedy: tokens inside the margin but not the top one, as a share of the output, before it fails. */
  greedyMaxNearTieShare: number;
  /** Sampled: the sequence's log-probability under the sampler, as a z-score against its expectation. */
  sampledMinZ: number;
  /** Sampled: tokens the sampler could not have drawn (outside top-k or top-p), as a share of the output. */
  sampledMaxViolationShare: number;
  /** Sampled: tolerance on the top-p boundary, in cumulative probability. */
  topPTolerance: number;
  /** Sampled 'length' claims: allowed difference between scored and claimed token counts, as a share. */
  sampledLengthSlack: number;
};

export type TokenFinding = { position: number; token: number; rank: number; gap: number };

export type LikelihoodEvidence = {
  mode: 'greedy' | 'sampled';
  tokens: number;
  evaluatedTokens: number;
  /** Greedy: tokens that are not the model's top token. */
  nonTop: number;
  /** Largest logit gap to the top token over the output. */
  maxGap: number;
  /** Sampled: mean log-probability of the output's tokens under the sampler (temperature, top-k, top-p). */
  meanLogProb: number | null;
  z: number | null;
  violations: number;
  /** Whether the end matches the claimed finish reason, and why not. */
  endOk: boolean;
  endReason: string;
  /** The worst few tokens, for a person reviewing a dispute. */
  worst: TokenFinding[];
  thresholds: LikelihoodThresholds;
  /** Set when the scored tokens do not spell the claimed output: the validator's work, not the worker's, failed. */
  invalidScores?: string;
};

export type EmbeddingEvidence = { cosine: number; threshold: number; dimensions: number };

export type Evidence = (
  | ({ level: 'checksum' } & ChecksumEvidence)
  | ({ level: 'redundant' } & RedundantEvidence)
  | ({ level: 'likelihood' } & LikelihoodEvidence)
  | ({ level: 'embedding' } & EmbeddingEvidence)
) & {
  dispute?: Dispute;
  validatorFault?: ValidatorFault;
  /** On a verdict of the router's own audit (src/verify/audit.ts), beyond the level asked for. */
  audit?: true;
};

/**
 * On a validator's own verdict: the router caught it without a second opinion, by a known-answer task
 * (a honeypot it passed) or by scores that do not spell the output it was given. `strike` counts such
 * verdicts of this validator; the first lowers its reputation, a second and later also slash it.
 */
export type ValidatorFault = { kind: 'honeypot' | 'invalid-scores'; strike: number };

/** Strikes before a validator's faults slash its stake (one could be bad luck; two are a habit). */
export const SLASHING_STRIKE = 2;

/**
 * On a validator's own verdict: its fail of a worker's result was overruled by a second validator that
 * passed it. The evidence around it is what the first validator claimed.
 */
export type Dispute = {
  /** The node whose result the validator failed. */
  worker: string;
  overruledBy: string;
  secondReason: string;
  secondEvidence:
    | ({ level: 'likelihood' } & LikelihoodEvidence)
    | ({ level: 'embedding' } & EmbeddingEvidence);
};
