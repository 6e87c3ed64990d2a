import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, LedgerStore, openDatabase } from '../store/index.js';
import type { LedgerConfigInput } from './config.js';
import { Ledger } from './ledger.js';

/** A deterministic address for tests: `address(1)` is 0x000…0001. */
export const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

/**
 * A ledger on a real SQLite file in a fresh temp folder, with a clock the test moves and commits only on
 * `flush()`, so a test decides what a crash loses. `restart` reopens the file as a new process would
 * (`crash: true` drops what was not committed). Test-only; not exported from index.ts.
 */
export class LedgerFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'otensor-ledger-'));
  time = 1_700_000_000_000;
  db: Db;
  store: LedgerStore;
  ledger: Ledger;

  constructor(
    readonly config: LedgerConfigInput = {},
    readonly checkpointMs = 1000,
  ) {
    this.db = openDatabase(this.dir);
    this.store = new LedgerStore(this.db);
    this.ledger = this.#open();
  }

  #open(): Ledger {
    return new Ledger({
      store: this.store,
      config: this.config,
      now: () => this.time,
      autoFlush: false,
      checkpointMs: this.checkpointMs,
    });
  }

  restart(options: { crash?: boolean } = {}): Ledger {
    if (options.crash) this.ledger.abandonForTests();
    else this.ledger.close();
    this.db.close();
    this.db = openDatabase(this.dir);
    this.store = new LedgerStore(this.db);
    this.ledger = this.#open();
    return this.ledger;
  }

  dispose(): void {
    this.ledger.abandonForTests();
    if (this.db.open) this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
