import type { Dispute, Judgment } from './types.js';
import { type EvidenceFor, makeVerdict, type VerdictRecord, type VerdictSubject } from './verdict.js';

/** One validator's judgment of a result, for a level judged by a single validator node. */
export type ValidatorJudgment<E> = { validatorId: string; judgment: Judgment<E> };

type Level = 'likelihood' | 'embedding';

/**
 * The verdicts of a fail that a second, independent validator was asked to confirm. One validator's fail
 * is one opinion, and a dishonest validator could slash honest nodes with it, so:
 * - no second validator (`second` null): the result is not blamed; one `undecided` verdict says why (the
 *   task is redone elsewhere, nobody is slashed);
 * - the second fails it too: the fail is confirmed, a verdict from each;
 * - the second passes it: the result passes (the second's verdict), and the first validator gets a `fail`
 *   verdict of its own, with both judgments as evidence. That verdict lowers the validator's reputation
 *   but is not a slash (`isSlash`): one validator against another cannot say which lied.
 */
export function confirmedVerdicts<L extends Level>(
  subject: Omit<VerdictSubject, 'validatorId'>,
  level: L,
  first: ValidatorJudgment<EvidenceFor[L]>,
  second: ValidatorJudgment<EvidenceFor[L]> | null,
  at: number,
): VerdictRecord[] {
  const by = (j: ValidatorJudgment<EvidenceFor[L]>) => ({ ...subject, validatorId: j.validatorId });
  if (first.judgment.outcome !== 'fail') return [makeVerdict(by(first), level, first.judgment, at)];
  if (second === null) {
    const reason = `not confirmed, so not blamed: no second independent validator is connected (validator ${first.validatorId} said: ${first.judgment.reason})`;
    return [makeVerdict(by(first), level, { ...first.judgment, outcome: 'undecided', reason }, at)];
  }
  if (second.judgment.outcome === 'fail') {
    const confirmed = {
      ...second.judgment,
      reason: `${second.judgment.reason} (confirms validator ${first.validatorId})`,
    };
    return [makeVerdict(by(first), level, first.judgment, at), makeVerdict(by(second), level, confirmed, at)];
  }
  const dispute: Dispute = {
    worker: subject.nodeId,
    overruledBy: second.validatorId,
    secondReason: second.judgment.reason,
    secondEvidence: { level, ...second.judgment.evidence } as Dispute['secondEvidence'],
  };
  const about = { ...subject, nodeId: first.validatorId, validatorId: second.validatorId };
  const wrong = makeVerdict(
    about,
    level,
    {
      outcome: 'fail',
      reason: `failed a result of ${subject.nodeId} that validator ${second.validatorId} passed (it said: ${first.judgment.reason})`,
      evidence: { ...first.judgment.evidence, dispute },
    },
    at,
  );
  return [makeVerdict(by(second), level, second.judgment, at), wrong];
}

export { isSlash } from './verdict.js';
