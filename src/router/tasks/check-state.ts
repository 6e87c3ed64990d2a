import type { StreamCheck } from '../../protocol/index.js';
import type { CheckedCounts } from './token-counts.js';

/** How a task's answer was checked, as the client is told (headers and the `omnitensor.validation` field). */
export type Validation = {
  /** The level asked for (`auto` unless the request, session or key says otherwise). */
  requested: string;
  /** The check actually made, or 'none'. */
  level: string;
  verdict: 'pass' | 'unchecked';
  /** Validator node ids, or 'router' for hash comparisons. */
  checkedBy: string[];
};

type CheckWriter = {
  receipt(state: CheckState, receipt: Validation | null): void;
  checkedTokens(state: CheckState, counts: CheckedCounts): void;
  streamed(state: CheckState, streamed: StreamCheck): void;
};

/** The writer of every task's check state: for verification only. */
// Declared before the class: its static block assigns it when the class is defined.
export let writeCheck: CheckWriter;

/**
 * A task's check state. Verification is its one writer (`writeCheck`, imported by
 * src/router/tasks/verification.ts alone; src/router/tasks/owners.test.ts holds that rule); everyone else
 * reads the getters.
 */
export class CheckState {
  #receipt: Validation | null = null;
  #checkedTokens: CheckedCounts | null = null;
  #streamed: StreamCheck | null = null;

  /** How the delivered answer was checked; null until its check passed or it went out unchecked. */
  get receipt(): Validation | null {
    return this.#receipt;
  }

  /** Token counts an independent check measured for an attempt (payments caps its charge with them). */
  get checkedTokens(): CheckedCounts | null {
    return this.#checkedTokens;
  }

  /** How the current attempt's text is released to a stream, decided with its check; null: not decided. */
  get streamed(): StreamCheck | null {
    return this.#streamed;
  }

  static {
    writeCheck = {
      receipt: (state, receipt) => {
        state.#receipt = receipt;
      },
      checkedTokens: (state, counts) => {
        state.#checkedTokens = counts;
      },
      streamed: (state, streamed) => {
        state.#streamed = streamed;
      },
    };
  }
}
