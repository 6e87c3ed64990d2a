import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/index.js';
import { decodeFingerprint, encodeFingerprint, type Fingerprint, nearness } from './fingerprint.js';
import { bandKeys } from './text.js';

type CampaignIndex = {
  entries: Map<string, Fingerprint>;
  /** Text band key -> items: the candidates a new text is compared with. */
  bands: Map<string, string[]>;
};

export type NearMatch = { itemId: string; how: string };

/**
 * The fingerprints of a campaign's items (`campaign_fingerprints`) and an in-memory index of them, loaded
 * once per campaign. Texts are looked up by MinHash bands; pictures are compared with every picture of the
 * campaign (a 64-bit hash and 72 bytes each: 100,000 pictures take milliseconds). The campaign service is
 * the only writer: rows are written in the transaction that inserts their item.
 */
export class NearIndex {
  readonly #db: Db;
  readonly #campaigns = new Map<string, CampaignIndex>();
  #insert: Statement<[string, string, string]> | undefined;

  constructor(db: Db) {
    this.#db = db;
  }

  #index(campaign: string): CampaignIndex {
    let index = this.#campaigns.get(campaign);
    if (index) return index;
    index = { entries: new Map(), bands: new Map() };
    this.#campaigns.set(campaign, index);
    const rows = this.#db
      .prepare<[string], { item_id: string; value: string }>(
        'SELECT item_id, value FROM campaign_fingerprints WHERE campaign_id = ?',
      )
      .all(campaign);
    for (const row of rows) {
      const f = decodeFingerprint(row.value);
      if (f) this.#remember(index, row.item_id, f);
    }
    return index;
  }

  #remember(index: CampaignIndex, itemId: string, f: Fingerprint): void {
    index.entries.set(itemId, f);
    if (f.kind !== 'text') return;
    for (const key of bandKeys(f.signature)) {
      const list = index.bands.get(key);
      if (list) list.push(itemId);
      else index.bands.set(key, [itemId]);
    }
  }

  /** The first earlier item near `f` that `counts` (accepted or pending, not rejected), or null. */
  find(campaign: string, f: Fingerprint, counts: (itemId: string) => boolean): NearMatch | null {
    const index = this.#index(campaign);
    const candidates =
      f.kind === 'text'
        ? new Set(bandKeys(f.signature).flatMap((key) => index.bands.get(key) ?? []))
        : index.entries.keys();
    for (const itemId of candidates) {
      const other = index.entries.get(itemId);
      const how = other && nearness(f, other);
      if (how && counts(itemId)) return { itemId, how };
    }
    return null;
  }

  /** Records an item's fingerprint: call inside the transaction that inserts the item. */
  add(campaign: string, itemId: string, f: Fingerprint): void {
    this.#insert ??= this.#db.prepare<[string, string, string]>(
      'INSERT OR REPLACE INTO campaign_fingerprints (item_id, campaign_id, value) VALUES (?, ?, ?)',
    );
    this.#insert.run(itemId, campaign, encodeFingerprint(f));
    this.#remember(this.#index(campaign), itemId, f);
  }

  /** Forgets fingerprints whose transaction rolled back (or whose item was refused after all). */
  forget(campaign: string, itemIds: Iterable<string>): void {
    const index = this.#campaigns.get(campaign);
    if (!index) return;
    const gone = new Set(itemIds);
    for (const id of gone) index.entries.delete(id);
    for (const [key, list] of index.bands) {
      const kept = list.filter((id) => !gone.has(id));
      if (kept.length === 0) index.bands.delete(key);
      else if (kept.length !== list.length) index.bands.set(key, kept);
    }
  }
}
