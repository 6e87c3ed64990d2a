import type { LedgerFixture } from '../ledger/testing.js';
import { Campaigns } from './campaigns.js';

/** The campaigns service on a ledger fixture's database and clock; each account is its own wallet by default. */
export function campaignsOn(fx: LedgerFixture, walletOf: (account: string) => string = (a) => a): Campaigns {
  return new Campaigns({ db: fx.db, ledger: fx.ledger, dataDir: fx.dir, walletOf, now: () => fx.time });
}
