import type { TokenCounts } from './token-counts.js';

type PaymentWriter = {
  usage(state: PaymentState, usage: TokenCounts): void;
  cost(state: PaymentState, cost: bigint | null): void;
};

/** The writer of every task's payment state: for payments only. */
// Declared before the class: its static block assigns it when the class is defined.
export let writePayment: PaymentWriter;

/**
 * What a task's client was charged. Payments is its one writer (`writePayment`, imported by
 * src/router/tasks/payments.ts alone; src/router/tasks/owners.test.ts holds that rule); everyone else reads.
 */
export class PaymentState {
  #cost: bigint | null = null;
  #usage: TokenCounts | null = null;

  /** What the client was charged for the task and its checks, once booked (null: nothing to pay). */
  get cost(): bigint | null {
    return this.#cost;
  }

  /** The token counts charged and reported for the accepted result, once counted. */
  get usage(): TokenCounts | null {
    return this.#usage;
  }

  static {
    writePayment = {
      usage: (state, usage) => {
        state.#usage = usage;
      },
      cost: (state, cost) => {
        state.#cost = cost;
      },
    };
  }
}
