import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { verifyLedger } from '../ledger/index.js';
import { readGgufInfo, sha256File } from '../models/index.js';
import { formatValidationLevel, parseValidationLevel } from '../protocol/index.js';
import { accountOf, type Db, KeyStore, LedgerStore, ModelStore, openDatabase } from '../store/index.js';

/**
 * The one module through which the CLI works on a router's data folder without a router (`keys create`,
 * `model add`, `model list --data`, `ledger verify`, and `up` setting up its router): every store and ledger
 * call of the CLI is here, each opening the store, doing one thing and closing it. The router may be running:
 * SQLite in WAL mode lets a second process write a key or a model while it serves.
 */
function withStore<T>(dataDir: string, work: (db: Db) => T): T {
  const db = openDatabase(dataDir);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/**
 * The router store behind a `--data DIR` a user typed: the router's own folder (it holds router.db), or the
 * folder given to `otensor-cli up --data DIR`, whose router keeps its store in DIR/router. Without this, a
 * user who ran `up --data .data/up` and then `keys create --data .data/up` would make a second, empty store
 * the running router never reads.
 */
export function routerStoreDir(dir: string): string {
  if (existsSync(join(dir, 'router.db'))) return dir;
  const upRouter = join(dir, 'router');
  if (existsSync(join(upRouter, 'router.db'))) return upRouter;
  return dir;
}

/** Registers a GGUF file in the store; returns its record. Used by `model add` and `up`. */
export async function registerModel(dataDir: string, file: string, name: string, knownSha256?: string) {
  if (!existsSync(file))
    throw new Error(
      `No model file at ${file}. Create one with \`otensor-cli model create-tiny --out ${file}\`.`,
    );
  const [info, sha256] = await Promise.all([readGgufInfo(file), knownSha256 ?? sha256File(file)]);
  const record = { ...info, name, sha256, path: resolve(file), addedAt: Date.now() };
  withStore(dataDir, (db) => new ModelStore(db).add(record));
  return record;
}

/** The models registered in the store, newest first by name. */
export function registeredModels(dataDir: string) {
  return withStore(dataDir, (db) => new ModelStore(db).list());
}

/** Creates an API key in the store. Used by `keys create` and `up`. */
export function createKey(dataDir: string, label?: string): string {
  return withStore(dataDir, (db) => new KeyStore(db).create(label).key);
}

export type AccountKeyOptions = { label?: string; account?: string; operator?: boolean; validation?: string };

/**
 * Creates an API key for an account in the router's store. Without `account` it makes a new wallet for the key
 * and keeps its private key in `DIR/wallets/<address>.key` (0600), so its owner can also log in with it.
 */
export function createAccountKey(
  dataDir: string,
  options: AccountKeyOptions = {},
): { key: string; account: string; walletFile: string | undefined } {
  let account: string;
  let walletFile: string | undefined;
  if (options.account !== undefined) {
    account = accountOf(options.account);
  } else {
    const privateKey = generatePrivateKey();
    account = privateKeyToAccount(privateKey).address.toLowerCase();
    const wallets = join(resolve(dataDir), 'wallets');
    mkdirSync(wallets, { recursive: true, mode: 0o700 });
    walletFile = join(wallets, `${account}.key`);
    writeFileSync(walletFile, `${privateKey}\n`, { mode: 0o600, flag: 'wx' });
  }
  // A bad level fails here, naming the flag, not on the key's first request.
  const validation =
    options.validation === undefined
      ? undefined
      : formatValidationLevel(parseValidationLevel(options.validation, '--validation'));
  const { key } = withStore(dataDir, (db) =>
    new KeyStore(db).create(options.label, {
      account,
      role: options.operator ? 'operator' : 'user',
      validation,
    }),
  );
  return { key, account, walletFile };
}

/** Checks a router's whole ledger history offline; throws naming the folder when it holds no store. */
export function verifyLedgerAt(dataDir: string) {
  if (!existsSync(join(dataDir, 'router.db')))
    throw new Error(`No router store in ${dataDir} (no router.db): name the router's --data folder.`);
  return withStore(dataDir, (db) => verifyLedger(new LedgerStore(db)));
}
