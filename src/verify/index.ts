export { type AuditAnswer, auditFor, judgeAudit } from './audit.js';
export {
  addressGroup,
  type CheckedParty,
  type CheckerCandidate,
  checkerPool,
  drawByStake,
  hasCleanRecord,
  related,
  stakeWeight,
} from './checkers.js';
export { concurringVerdicts } from './concur.js';
export { confirmedVerdicts, isSlash, type ValidatorJudgment } from './confirm.js';
export {
  type HashedResult,
  judgeChecksum,
  judgeRedundant,
  type RedundantJudgment,
} from './consensus.js';
export { cosineSimilarity, judgeEmbedding } from './embedding.js';
export { missingForCheck, type NetworkView } from './feasibility.js';
export { eligibleValidators, isIndependent, partiesOf } from './independence.js';
export { formatValidationLevel, isDeterministic, MAX_REDUNDANCY, parseValidationLevel } from './levels.js';
export { judgeLikelihood, type LikelihoodInput } from './likelihood.js';
export {
  AUTO_POLICY_DEFAULTS,
  type AutoPolicyOptions,
  checkFor,
  checkRate,
  shouldCheck,
  type TaskKind,
} from './policy.js';
export {
  EMPTY_RECORD,
  isTrusted,
  REPUTATION_DEFAULTS,
  type ReputationOptions,
  type ReputationRecord,
  recordVerdict,
  reputationFromVerdicts,
  reputationKey,
  reputationScore,
} from './reputation.js';
export { logQOf, type SamplerParams, type SamplerView, samplerView } from './sampler.js';
export { MAX_UNSCORED_TAIL_BYTES, spellingProblem } from './spelling.js';
export {
  EMBEDDING_THRESHOLD,
  LIKELIHOOD_THRESHOLDS,
  LIKELIHOOD_THRESHOLDS_CROSS_BUILD,
  LIKELIHOOD_THRESHOLDS_SAME_BUILD,
  likelihoodThresholdsFor,
} from './thresholds.js';
export {
  completionBoundFor,
  completionCountProblem,
  completionTokenBound,
  END_TOKENS,
} from './token-bound.js';
export type {
  CheckLevel,
  ChecksumEvidence,
  DecodingParams,
  Dispute,
  EmbeddingEvidence,
  Evidence,
  Judgment,
  LikelihoodEvidence,
  LikelihoodThresholds,
  Outcome,
  OutputClaim,
  RedundantEvidence,
  TokenFinding,
  ValidationLevel,
  ValidatorFault,
  Worker,
} from './types.js';
export { SLASHING_STRIKE } from './types.js';
export {
  type EvidenceFor,
  makeVerdict,
  redundantVerdicts,
  toVerdictEvent,
  type VerdictEvent,
  type VerdictRecord,
  type VerdictSubject,
  verdictId,
} from './verdict.js';
