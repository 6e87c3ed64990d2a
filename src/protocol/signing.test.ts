import type { KeyObject } from 'node:crypto';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createNonceSource,
  createResultSigner,
  outputHash,
  recoverSignerKey,
  resultClaimText,
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

describe('result signatures (native ECDSA with the node key)', () => {
  const privateKey = generatePrivateKey();
  const node = privateKeyToAccount(privateKey);
  const signResult = createResultSigner(privateKey, node.publicKey);

  it('verifies with the key recovered from the node hello, and only for the exact claim', async () => {
    const helloText = 'omnitensor/hello/v1|test';
    const key = await recoverSignerKey(helloText, await signText(node, helloText), node.address);
    expect(key).toBeDefined();
    const text = resultClaimText({ ...claim, nodeId: node.address });
    const signature = signResult(text);
    expect(verifyResultSignature(text, signature, key as KeyObject)).toBe(true);
    expect(verifyResultSignature(`${text}x`, signature, key as KeyObject)).toBe(false);
    expect(verifyResultSignature(text, `0x${'00'.repeat(64)}`, key as KeyObject)).toBe(false);
  });

  it('rejects a result signed by another key', async () => {
    const otherKey = generatePrivateKey();
    const forged = createResultSigner(otherKey, privateKeyToAccount(otherKey).publicKey);
    const helloText = 'hello';
    const key = (await recoverSignerKey(
      helloText,
      await signText(node, helloText),
      node.address,
    )) as KeyObject;
    const text = resultClaimText({ ...claim, nodeId: node.address });
    expect(verifyResultSignature(text, forged(text), key)).toBe(false);
  });

  it('recovers no key when the hello was signed by someone other than the claimed address', async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    expect(await recoverSignerKey('hello', await signText(other, 'hello'), node.address)).toBeUndefined();
  });
});
