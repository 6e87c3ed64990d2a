import { confirmedVerdicts, type ValidatorJudgment } from './confirm.js';
import { type EvidenceFor, makeVerdict, type VerdictRecord, type VerdictSubject } from './verdict.js';

type Level = 'likelihood' | 'embedding';

/**
 * The verdicts on a result of a node without a clean record, judged by two independent validators when a
 * second is connected. One validator's pass of a new node's work is one opinion, and a validator paid by
 * the same operator as a fresh Sybil node passes whatever it sends, so a new node's result passes only
 * when both pass. When they disagree (either way) nobody can say which lied: the result is `undecided`
 * (redone elsewhere) and nobody is blamed; in particular a second validator's pass does not overrule a
 * first one's fail, as it does for a node with a record (confirmedVerdicts). With no second validator,
 * or when both fail it, this is confirmedVerdicts.
 */
export function concurringVerdicts<L extends Level>(
  subject: Omit<VerdictSubject, 'validatorId'>,
  level: L,
  first: ValidatorJudgment<EvidenceFor[L]>,
  second: ValidatorJudgment<EvidenceFor[L]> | null,
  at: number,
): VerdictRecord[] {
  if (second === null || first.judgment.outcome === second.judgment.outcome)
    return second?.judgment.outcome === 'pass' && first.judgment.outcome === 'pass'
      ? [
          makeVerdict({ ...subject, validatorId: first.validatorId }, level, first.judgment, at),
          makeVerdict({ ...subject, validatorId: second.validatorId }, level, second.judgment, at),
        ]
      : confirmedVerdicts(subject, level, first, second, at);
  const failing = first.judgment.outcome === 'fail' ? first : second;
  const passing = failing === first ? second : first;
  const reason = `not passed, not blamed: validators disagree on the result of a node without a clean record (${passing.validatorId} passed it; ${failing.validatorId} said: ${failing.judgment.reason})`;
  return [
    makeVerdict(
      { ...subject, validatorId: failing.validatorId },
      level,
      { ...failing.judgment, outcome: 'undecided', reason },
      at,
    ),
  ];
}
