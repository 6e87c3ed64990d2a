/**
 * How long a node may hold a task, and how much the scheduler believes of a node, from what the router itself
 * saw it deliver. A hello's claimed tokens/s and slots are never enough: a node claiming 10^9 tokens/s that
 * never answers would otherwise get every request with a lease sized for that speed (issue 9).
 */

/**
 * Default time an unproven node has to send its first piece (a text chunk, its result or an error). Time to
 * first token of the tiny model is milliseconds on an idle machine and has been seen near a second on a loaded
 * 2-core CI machine; 5 s leaves room for that and for a busy router, yet a black-hole node costs a request
 * seconds, not the whole lease.
 */
export const FIRST_TOKEN_MS = 5_000;

/** The least first-token time a router may be configured with, so load alone never fails an honest node. */
export const FIRST_TOKEN_FLOOR_MS = 1_000;

/**
 * Default least time a lease's stream may go quiet after its first piece before the lease is taken back (a
 * node that sends one chunk and then stalls would otherwise hold the task for its whole lease). An honest node's
 * TextBatcher sends a chunk at least every ~20 ms while tokens flow, and the tiny model's tokens come
 * milliseconds apart even on a loaded 2-core machine; 5 s is far above any honest gap and still a fraction of
 * a lease. A slow node is allowed QUIET_GAPS times its own measured gap between pieces.
 */
export const QUIET_FLOOR_MS = 5_000;

/** The least quiet floor a router may be configured with, so load alone never fails an honest node. */
export const QUIET_FLOOR_MIN_MS = 1_000;

/** How many of a node's measured gaps between pieces its stream may stay quiet (beyond the floor). */
const QUIET_GAPS = 20;

/**
 * Prompt evaluation the first-piece window allows for, in tokens/s (~4 characters a token): a long prompt on a
 * slow CPU node takes a while before its first token, and that is not a fault.
 */
const PROMPT_TOKENS_PER_SECOND = 100;

/**
 * How long a lease's stream may stay quiet after its first piece: the floor, or QUIET_GAPS times the node's
 * measured gap between pieces if longer, plus the prompt time of the node's other tasks still before their
 * first piece (a node evaluating a long prompt may pause its other streams meanwhile).
 */
export function quietLimitMs(floorMs: number, gapMs: number | undefined, otherPromptsMs: number): number {
  return Math.max(floorMs, QUIET_GAPS * (gapMs ?? 0)) + otherPromptsMs;
}

/** Slots believed of a node before it has delivered anything; each delivered task believes one more. */
export const UNPROVEN_SLOTS = 2;

/** A node that missed a lease gets no work for this long, doubling with each miss in a row, up to the cap. */
const BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;

/** Weight of the newest measurement in a node's measured tokens/s. */
const MEASURE_WEIGHT = 0.3;

/** Time allowed for evaluating a prompt of this many characters before the first token. */
export function promptMs(promptChars: number): number {
  return (promptChars / 4 / PROMPT_TOKENS_PER_SECOND) * 1000;
}

/** Slots the scheduler fills on a node that announced `announced` and has delivered `delivered` tasks in a row. */
export function believedSlots(announced: number, delivered: number): number {
  return Math.min(announced, UNPROVEN_SLOTS + delivered);
}

/** How long a node that has missed `misses` leases in a row is kept from work. */
export function backoffMs(misses: number): number {
  return Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** Math.max(0, Math.min(misses - 1, 10)));
}

/**
 * Tokens/s for sizing a lease: what the router measured of this node, else the lower of its claim and what
 * the network's nodes measured for the model (a claim may lengthen an unproven node's lease, never shorten it
 * below what others deliver; it is bounded by the first-piece deadline anyway).
 */
export function leaseRate(
  measured: number | undefined,
  claimed: number,
  network: number | undefined,
): number {
  if (measured !== undefined) return Math.max(measured, 1);
  return Math.max(network === undefined ? claimed : Math.min(claimed, network), 1);
}

/**
 * A finished task's speed as the router saw it: output tokens (never more than the task allowed, whatever the
 * node reports) over the time from lease to result. Latency counts against it, which only lengthens leases.
 */
export function observedRate(outputTokens: number, maxTokens: number, elapsedMs: number): number {
  return (Math.min(outputTokens, maxTokens) / Math.max(1, elapsedMs)) * 1000;
}

/** Folds a new measurement into a running one. */
export function blend(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous * (1 - MEASURE_WEIGHT) + sample * MEASURE_WEIGHT;
}
