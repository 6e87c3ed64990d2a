import type { ResultRecord } from '../../store/index.js';
import {
  type HashedResult,
  judgeChecksum,
  judgeRedundant,
  makeVerdict,
  redundantVerdicts,
  type VerdictRecord,
} from '../../verify/index.js';
import type { CheckRunner, Party } from './check-runner.js';
import type { Lease } from './scheduler.js';
import type { StreamChecks } from './stream-checks.js';
import type { TaskHandle } from './task-manager.js';

/**
 * The `checksum` and `redundant:k` levels: the same request on other workers, compared by output hash.
 * Replicas started with the lease (stream-checks.ts) are used first. Its verdicts are returned, not recorded.
 */
export class ReplicaCheck {
  readonly #runner: CheckRunner;
  readonly #streams: StreamChecks;

  constructor(runner: CheckRunner, streams: StreamChecks) {
    this.#runner = runner;
    this.#streams = streams;
  }

  /** `k`: the votes asked for (2 for checksum). */
  async judge(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    level: 'checksum' | 'redundant',
    k: number,
  ): Promise<VerdictRecord[]> {
    const runner = this.#runner;
    const { input } = handle.record;
    const answers: (HashedResult & Party & { attempt: number })[] = [
      { ...runner.party(result.nodeId), outputSha256: result.outputSha256, attempt: result.attempt },
    ];
    // Each replica avoids every node (and wallet) that already answered; a tie adds up to two more. The
    // majority is of the k votes asked for (2 for checksum), and must beat every other answer.
    while (answers.length < k + 2) {
      if (answers.length >= k && judgeRedundant(answers, k).outcome !== 'undecided') break;
      const started = this.#streams.takeReplica(handle.record.id, result.attempt);
      const replica = await (started ?? runner.run(handle, lease, 'worker', answers, input));
      runner.spent(replica.output.promptTokens + replica.output.completionTokens);
      answers.push({
        ...runner.party(replica.nodeId),
        outputSha256: replica.outputSha256,
        attempt: replica.attempt,
      });
      if (level === 'checksum' && answers.length === 2) {
        const judged = judgeChecksum(answers[0] as HashedResult, answers[1] as HashedResult);
        if (judged.outcome === 'pass') {
          const subject = {
            taskId: handle.record.id,
            attempt: result.attempt,
            nodeId: result.nodeId,
            validatorId: replica.nodeId,
            modelSha256: lease.task.modelSha256,
          };
          return [makeVerdict(subject, 'checksum', judged, Date.now())];
        }
      }
    }
    const judged = judgeRedundant(answers, k);
    const task = { taskId: handle.record.id, modelSha256: lease.task.modelSha256 };
    return redundantVerdicts(task, answers, judged, Date.now());
  }
}
