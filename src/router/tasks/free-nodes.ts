/**
 * The nodes of one model that have a free slot, in an array with an index map so that adding, removing and
 * picking a random member are O(1). The scheduler keeps one per model so a dispatch never scans every
 * connected node.
 */
export class FreeNodes<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<T, number>();

  get size(): number {
    return this.#items.length;
  }

  has(item: T): boolean {
    return this.#index.has(item);
  }

  add(item: T): void {
    if (this.#index.has(item)) return;
    this.#index.set(item, this.#items.length);
    this.#items.push(item);
  }

  delete(item: T): void {
    const at = this.#index.get(item);
    if (at === undefined) return;
    const last = this.#items.pop() as T;
    this.#index.delete(item);
    if (last !== item) {
      this.#items[at] = last;
      this.#index.set(last, at);
    }
  }

  at(position: number): T {
    return this.#items[position] as T;
  }

  values(): readonly T[] {
    return this.#items;
  }
}
