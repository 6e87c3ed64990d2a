import { readFileSync } from 'node:fs';
import type { Hex } from 'viem';

/**
 * The private key in a key file: a node's own `node-key.json` (as `node start` keeps it in its data folder)
 * or a wallet key file holding the key as hex. Errors never quote the key.
 */
export function readKeyFile(file: string): Hex {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(`Cannot read the key file ${file} (${(error as Error).message}).`);
  }
  if (text.startsWith('{')) {
    try {
      text = String((JSON.parse(text) as { privateKey?: unknown }).privateKey ?? '');
    } catch {
      throw new Error(`The key file ${file} is neither hex nor a node key file (JSON with privateKey).`);
    }
  }
  const hex = text.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error(`The key in ${file} is not 32 bytes of hex (64 hexadecimal digits, with or without 0x).`);
  return `0x${hex.toLowerCase()}`;
}
