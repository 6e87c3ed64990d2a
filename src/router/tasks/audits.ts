import type { ResultRecord } from '../../store/index.js';
import {
  type AuditAnswer,
  judgeAudit,
  makeVerdict,
  redundantVerdicts,
  type VerdictRecord,
} from '../../verify/index.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';

/** A node, its payout wallet and network (as verification.ts's Party). */
type Party = { nodeId: string; wallet: string; addressGroup: string | null };

export type AuditSubject = { taskId: string; attempt: number; modelSha256: string };

export type AuditDeps = {
  /** Runs the task's own (seeded) request on a worker outside `avoid`, under `key`, and waits for it. */
  replica(avoid: readonly Party[], key: string): Promise<ResultRecord>;
  /** Whether a connected worker is independent of every node in `avoid`. */
  eligible(avoid: readonly Party[]): boolean;
  party(nodeId: string): Party;
  /** Engine tokens an audit's replica spent (the verification-cost figure). */
  spent(tokens: number): void;
};

/**
 * The key an audit replica runs under: `check:audit-<task id>:<attempt>:<n>`. No user's hold knows it, so
 * the user is not charged for an audit the router chose to make (as honeypots, docs/ledger.md); the bench
 * still counts its tokens against the task it audited.
 */
export const auditKey = (subject: AuditSubject, n: number) =>
  `${CHECK_KEY_PREFIX}audit-${subject.taskId}:${subject.attempt}:${n}`;

/**
 * The router's audit of one result (src/verify/audit.ts): a seeded replica on an independent worker, and on a
 * mismatch a third from a worker independent of both, judged by bytes. Verdicts are marked `audit` in their
 * evidence. A worker is failed only by two independent replicas that agree with each other and not with
 * it (so a single lying or differently built replica blames nobody); three different answers give an
 * `undecided` verdict and leave the requested level's judgment alone. `first`, when given, is a replica the
 * level already runs (the `embedding` check's reference answer), reused rather than paid twice. Null when
 * no independent worker is connected: the audit is skipped, never waited for.
 */
export async function audit(
  subject: AuditSubject,
  result: ResultRecord,
  deps: AuditDeps,
  first?: Promise<ResultRecord>,
): Promise<VerdictRecord[] | null> {
  const worker = deps.party(result.nodeId);
  if (!first && !deps.eligible([worker])) return null;
  const answers: (AuditAnswer & { attempt: number })[] = [
    { ...worker, outputSha256: result.outputSha256, attempt: result.attempt },
  ];
  let n = 0;
  for (;;) {
    const avoid = answers.map((a) => deps.party(a.nodeId));
    if (answers.length > 1 && !deps.eligible(avoid)) return null;
    const replica =
      answers.length === 1 && first ? await first : await deps.replica(avoid, auditKey(subject, ++n));
    if (!(answers.length === 1 && first))
      deps.spent(replica.output.promptTokens + replica.output.completionTokens);
    answers.push({
      ...deps.party(replica.nodeId),
      outputSha256: replica.outputSha256,
      attempt: replica.attempt,
    });
    const judged = judgeAudit(answers);
    if (judged.outcome === 'more') continue;
    const now = Date.now();
    const task = { taskId: subject.taskId, modelSha256: subject.modelSha256 };
    const verdicts =
      judged.outcome === 'undecided'
        ? [
            makeVerdict(
              { ...task, attempt: result.attempt, nodeId: result.nodeId, validatorId: 'router' },
              'redundant',
              {
                ...judged.judgment,
                outcome: 'undecided',
                reason: `audit: no two of three independent replicas agree (other hardware?); the requested level judges alone`,
              },
              now,
            ),
          ]
        : answers.length === 2
          ? [
              makeVerdict(
                { ...task, attempt: result.attempt, nodeId: result.nodeId, validatorId: replica.nodeId },
                'checksum',
                {
                  outcome: 'pass',
                  reason: 'audit: an independent replica produced the same bytes',
                  evidence: { claimedSha256: result.outputSha256, checkSha256: replica.outputSha256 },
                },
                now,
              ),
            ]
          : redundantVerdicts(task, answers, judged.judgment, now).map((v) => ({
              ...v,
              reason: `audit: ${v.reason}`,
            }));
    for (const v of verdicts) v.evidence.audit = true;
    return verdicts;
  }
}
