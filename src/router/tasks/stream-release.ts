import type { ResultRecord } from '../../store/index.js';
import type { TaskHandle } from './task-manager.js';

/**
 * Verified streaming for `checksum` and `redundant:k` (docs/verification.md, "Verified streaming"): the
 * replicas start when the worker's lease starts, not after its result, and the client gets the longest
 * prefix of the worker's stream that enough independent replicas streamed too. A checked stream thus moves
 * at the pace of the slower agreeing node, and a check finishes about when the slower node finishes.
 */

/** A node as a check sees it: node id, payout wallet, network (null: not comparable). */
export type ReplicaParty = { nodeId: string; wallet: string; addressGroup: string | null };

/** Submits one replica avoiding `avoid`; `watch` gets its task handle before any node can take it. */
export type StartReplica = (
  avoid: readonly ReplicaParty[],
  watch: (check: TaskHandle) => void,
) => Promise<ResultRecord>;

/**
 * The replicas of one attempt, started at its lease. Replica i+1 is submitted once replica i is leased (or
 * ended), avoiding the worker and every replica placed before it, so no two land on one node or wallet.
 */
export class EarlyReplicas {
  /** Each replica's result, in order; a check takes them in place of starting its own. */
  readonly results: Promise<ResultRecord>[] = [];
  readonly #texts: string[] = [];
  readonly #checks: TaskHandle[] = [];
  #taken = 0;

  constructor(
    /** The attempt these replicas check. */
    readonly attempt: number,
    /** Replicas that must agree with the worker before text is released. */
    readonly need: number,
    count: number,
    worker: ReplicaParty,
    partyOf: (nodeId: string) => ReplicaParty,
    start: StartReplica,
    onText: () => void,
  ) {
    const avoid: ReplicaParty[] = [worker];
    let gate: Promise<void> = Promise.resolve();
    for (let i = 0; i < count; i++) {
      let open!: () => void;
      const next = new Promise<void>((resolve) => {
        open = resolve;
      });
      this.#texts.push('');
      const result = gate.then(() =>
        start([...avoid], (check) => {
          this.#checks.push(check);
          check.once('leased', (nodeId) => {
            avoid.push(partyOf(nodeId));
            open();
          });
          check.on('text', (text) => {
            this.#texts[i] += text;
            onText();
          });
        }),
      );
      result.then(open, open);
      // Taken (and its failure handled) by the check; one never taken must not be an unhandled rejection.
      result.catch(() => {});
      this.results.push(result);
      gate = next;
    }
  }

  /** The next replica's result not yet taken by the check, or null when all were. */
  take(): Promise<ResultRecord> | null {
    return this.results[this.#taken++] ?? null;
  }

  /** The part of the worker's stream that `need` replicas streamed too. */
  agreed(workerText: string): string {
    return agreedPrefix(workerText, this.#texts, this.need);
  }

  /** Ids of the replica tasks started so far (to call off those left running when the attempt ends). */
  get taskIds(): string[] {
    return this.#checks.map((c) => c.record.id);
  }
}

/**
 * The longest prefix of `worker` that at least `need` of `replicas` begin with. It never ends between
 * the two halves of a surrogate pair (a character split across pieces).
 */
export function agreedPrefix(worker: string, replicas: readonly string[], need: number): string {
  const lengths = replicas.map((r) => commonPrefixLength(worker, r)).sort((a, b) => b - a);
  let n = need <= 0 ? worker.length : (lengths[need - 1] ?? 0);
  const last = worker.charCodeAt(n - 1);
  if (n > 0 && n < worker.length && last >= 0xd800 && last <= 0xdbff) n--;
  return worker.slice(0, n);
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
