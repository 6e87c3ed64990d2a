import { createHash } from 'node:crypto';
import { type Hex, recoverMessageAddress } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import type { HelloMessage, TaskOutput, TaskResultMessage } from './messages.js';

/** JSON with object keys sorted at every depth, so both sides hash the same bytes whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash a node signs for a task's output. */
export function outputHash(output: TaskOutput): string {
  return sha256Hex(canonicalJson(output));
}

export type ResultClaim = Pick<
  TaskResultMessage,
  'taskId' | 'attempt' | 'modelSha256' | 'outputSha256' | 'nonce'
> & {
  nodeId: string;
};

/** The exact text a node signs (EIP-191) to claim a task's result. */
export function resultClaimText(claim: ResultClaim): string {
  return [
    'omnitensor/result/v1',
    claim.nodeId.toLowerCase(),
    claim.taskId,
    String(claim.attempt),
    claim.modelSha256,
    claim.outputSha256,
    claim.nonce,
  ].join('|');
}

export function helloClaimText(hello: Omit<HelloMessage, 'signature'>): string {
  const { challenge, nodeId, ...body } = hello;
  return ['omnitensor/hello/v1', nodeId.toLowerCase(), challenge, sha256Hex(canonicalJson(body))].join('|');
}

export async function signText(account: PrivateKeyAccount, text: string): Promise<Hex> {
  return account.signMessage({ message: text });
}

/** True when `signature` over `text` was made by `expected` (an address). */
export async function verifySigner(text: string, signature: string, expected: string): Promise<boolean> {
  try {
    const signer = await recoverMessageAddress({ message: text, signature: signature as Hex });
    return signer.toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}

/** Monotonic nonces: milliseconds since epoch times 1000 plus a counter, unique per key and increasing across restarts. */
export function createNonceSource(): () => string {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now()) * 1000n;
    last = now > last ? now : last + 1n;
    return last.toString();
  };
}
