import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';

/**
 * The node's identity: a secp256k1 key made on first start and kept in the data folder, readable only by
 * its owner. The node id is the key's address. The key is never logged or sent.
 */
export function loadIdentity(dataDir: string): { account: PrivateKeyAccount; privateKey: Hex } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const file = join(dataDir, 'node-key.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { privateKey?: string };
    if (!stored.privateKey || !/^0x[0-9a-f]{64}$/i.test(stored.privateKey)) {
      throw new Error(`The node key file ${file} is damaged. Move it away to create a new identity.`);
    }
    chmodSync(file, 0o600);
    const privateKey = stored.privateKey as Hex;
    return { account: privateKeyToAccount(privateKey), privateKey };
  }
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  writeFileSync(file, `${JSON.stringify({ address: account.address, privateKey }, null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  return { account, privateKey };
}
