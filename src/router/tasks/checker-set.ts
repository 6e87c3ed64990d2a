/**
 * Who may take a check task, with their stake (the scheduler draws among them by stake). A plain map
 * serves; a CheckerSet also moves on from a checker that fails the check.
 */
export type Checkers = {
  has(nodeId: string): boolean;
  get(nodeId: string): bigint | undefined;
  readonly size: number;
  /** The node let its lease of the check lapse, or failed it: the check goes to another checker. */
  passOver?(nodeId: string): void;
  /** A node joined or came back from its backoff: a set left with no member may draw again. */
  refill?(): void;
};

/**
 * A check's checkers, drawn when the check is submitted. A checker that lets its lease lapse or fails the
 * check is passed over; once none is left, the set is drawn again from the nodes that can check now, less
 * every node passed over. Without this a check drawn for one node that then stops answering waits on that
 * node alone, as long as it stays connected (the fault run's seed 1: a checked request never answered).
 */
export class CheckerSet implements Checkers {
  #members: Map<string, bigint>;
  readonly #passedOver = new Set<string>();
  readonly #redraw: (passedOver: ReadonlySet<string>) => Map<string, bigint>;

  constructor(
    members: Map<string, bigint>,
    redraw: (passedOver: ReadonlySet<string>) => Map<string, bigint>,
  ) {
    this.#members = members;
    this.#redraw = redraw;
  }

  has(nodeId: string): boolean {
    return this.#members.has(nodeId);
  }

  get(nodeId: string): bigint | undefined {
    return this.#members.get(nodeId);
  }

  get size(): number {
    return this.#members.size;
  }

  passOver(nodeId: string): void {
    if (!this.#members.delete(nodeId)) return;
    this.#passedOver.add(nodeId);
    this.refill();
  }

  /**
   * With no member left, draws again from the nodes that can check now, less every node passed over. A set
   * drawn empty (every node that could check then was passed over, say while nodes reconnected after a
   * restart) draws again when a node joins: before this, it stayed empty and the check failed after its wait
   * with eight nodes connected (the fault run's seed 3).
   */
  refill(): void {
    if (this.#members.size > 0) return;
    this.#members = this.#redraw(this.#passedOver);
    for (const passed of this.#passedOver) this.#members.delete(passed);
  }
}

/**
 * One node only (a verified stream's validator, which holds its session's context: stream-score.ts). Passed
 * over (its lease lapsed, it failed the check), it is gone and `onGone` runs, after the scheduler's turn, so
 * the check ends at once rather than wait for a node that stalls it.
 */
export class PinnedChecker implements Checkers {
  #gone = false;

  constructor(
    readonly nodeId: string,
    readonly stake: bigint,
    readonly onGone: () => void,
  ) {}

  has(nodeId: string): boolean {
    return !this.#gone && nodeId === this.nodeId;
  }

  get(nodeId: string): bigint | undefined {
    return this.has(nodeId) ? this.stake : undefined;
  }

  get size(): number {
    return this.#gone ? 0 : 1;
  }

  passOver(nodeId: string): void {
    if (this.#gone || nodeId !== this.nodeId) return;
    this.#gone = true;
    setImmediate(this.onGone);
  }
}
