import type { ResultRecord } from '../../store/index.js';
import type { Party } from './check-runner.js';

/**
 * The first replica of the router's audit of a `likelihood` result (audits.ts), started before the result
 * (docs/verification.md, "Verified streaming"): a seeded rerun needs nothing from the worker, so it can run
 * beside the worker's generation rather than after it. It starts at the lease for a non-streamed answer.
 * For a streamed one it starts after the first chunk passed, and only on a worker that is none of the
 * stream's validators: a node runs one task per slot, and a validator busy with a whole generation would
 * hold the rest of the stream back (on a small network there is no such worker, and the audit runs on the
 * result, as before). The audit is judged exactly as before, from this replica instead of one started on
 * the result. Bound to one attempt; called off with it.
 */
export class EarlyAudit {
  #replica: Promise<ResultRecord> | null = null;
  #closed = false;
  readonly #taskIds: string[] = [];

  constructor(
    readonly attempt: number,
    /** Runs the replica on a worker outside `avoid` (the worker audited first). */
    readonly run: (avoid: readonly Party[], watch: (taskId: string) => void) => Promise<ResultRecord>,
  ) {}

  /** Starts the replica on a worker outside `avoid`, once. */
  start(avoid: readonly Party[]): void {
    if (this.#replica || this.#closed) return;
    this.#replica = this.run(avoid, (id) => this.#taskIds.push(id));
    // Its failure is heard by whoever takes it (the audit then is not made, as when a replica fails).
    this.#replica.catch(() => {});
  }

  /** The replica, when it was started; it will not start after this (the audit then runs its own). */
  take(): Promise<ResultRecord> | null {
    this.#closed = true;
    return this.#replica;
  }

  /** Ids of the replica's task (to call it off when the attempt ends). */
  get taskIds(): string[] {
    return [...this.#taskIds];
  }
}
