import type { KeyObject } from 'node:crypto';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createNonceSource,
  createResultKey,
  helloClaimText,
  outputHash,
  resultClaimText,
  resultPublicKey,
  signText,
  verifyResultSignature,
  verifySigner,
} from './signing.js';

const account = privateKeyToAccount(generatePrivateKey());
const claim = {
  nodeId: account.address,
  taskId: 'task_1',
  attempt: 1,
  modelSha256: 'a'.repeat(64),
  outputSha256: outputHash({ text: 'hello', promptTokens: 3, completionTokens: 1, finishReason: 'stop' }),
  nonce: '1000',
};

describe('result signing', () => {
  it('accepts a result signed by the claimed node', async () => {
    const signature = await signText(account, resultClaimText(claim));
    expect(await verifySigner(resultClaimText(claim), signature, account.address)).toBe(true);
  });

  it('rejects a signature from another key (a forged node id)', async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    const signature = await signText(other, resultClaimText(claim));
    expect(await verifySigner(resultClaimText(claim), signature, account.address)).toBe(false);
  });

  it('rejects a signature when any claimed field changes', async () => {
    const signature = await signText(account, resultClaimText(claim));
    for (const change of [
      { taskId: 'task_2' },
      { attempt: 2 },
      { modelSha256: 'b'.repeat(64) },
      { outputSha256: 'c'.repeat(64) },
      { nonce: '1001' },
    ]) {
      expect(await verifySigner(resultClaimText({ ...claim, ...change }), signature, account.address)).toBe(
        false,
      );
    }
  });

  it('rejects garbage signatures without throwing', async () => {
    expect(await verifySigner('x', `0x${'00'.repeat(65)}`, account.address)).toBe(false);
  });
});

describe('canonical JSON and nonces', () => {
  it('hashes objects the same whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(
      canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }),
    );
    expect(outputHash({ text: 'a', promptTokens: 1, completionTokens: 1 })).not.toBe(
      outputHash({ text: 'b', promptTokens: 1, completionTokens: 1 }),
    );
  });

  it('gives strictly increasing nonces even within one millisecond', () => {
    const next = createNonceSource();
    const values = Array.from({ length: 1000 }, () => BigInt(next()));
    for (let i = 1; i < values.length; i++)
      expect((values[i] as bigint) > (values[i - 1] as bigint)).toBe(true);
  });
});

describe('result signatures (Ed25519 result key certified by the hello)', () => {
  const resultKey = createResultKey();

  it('verifies with the announced key, and only for the exact claim', () => {
    const key = resultPublicKey(resultKey.publicKey) as KeyObject;
    expect(key).toBeDefined();
    const text = resultClaimText(claim);
    const signature = resultKey.sign(text);
    expect(verifyResultSignature(text, signature, key)).toBe(true);
    expect(verifyResultSignature(`${text}x`, signature, key)).toBe(false);
    expect(verifyResultSignature(text, `0x${'00'.repeat(64)}`, key)).toBe(false);
    expect(verifyResultSignature(text, 'not hex', key)).toBe(false);
  });

  it('rejects a result signed by another key', () => {
    const forger = createResultKey();
    const text = resultClaimText(claim);
    expect(
      verifyResultSignature(text, forger.sign(text), resultPublicKey(resultKey.publicKey) as KeyObject),
    ).toBe(false);
  });

  it('refuses a malformed result key', () => {
    expect(resultPublicKey('x'.repeat(20))).toBeUndefined();
    expect(resultPublicKey('%%%')).toBeUndefined();
  });

  it('binds the result key to the node id through the signed hello', async () => {
    const hello = {
      type: 'hello' as const,
      protocol: 1 as const,
      nodeId: account.address,
      challenge: 'c'.repeat(32),
      resultKey: resultKey.publicKey,
      hardware: {
        nodeType: 'cpu' as const,
        cpuCores: 1,
        cpuModel: 't',
        memoryBytes: 1,
        gpus: [],
        threads: 1,
      },
      models: [],
    };
    const signature = await signText(account, helloClaimText(hello));
    expect(await verifySigner(helloClaimText(hello), signature, account.address)).toBe(true);
    // Swapping in another result key breaks the hello's signature.
    const swapped = { ...hello, resultKey: createResultKey().publicKey };
    expect(await verifySigner(helloClaimText(swapped), signature, account.address)).toBe(false);
  });
});
