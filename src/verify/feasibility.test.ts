import { describe, expect, it } from 'vitest';
import { missingForCheck, parseValidationLevel } from './index.js';

const node = (nodeId: string, wallet = `node:${nodeId}`) => ({ nodeId, wallet });
const greedy = { temperature: 0 };

describe('missingForCheck: checks the connected nodes cannot make are refused up front', () => {
  it('names the missing validator for likelihood and for embedding of text', () => {
    const nodes = { workers: [node('w1'), node('w2')], validators: [] };
    expect(missingForCheck(parseValidationLevel('likelihood'), 'chat', greedy, nodes)).toBe(
      'validation: likelihood needs a validator node; none is connected',
    );
    expect(missingForCheck(parseValidationLevel('embedding'), 'completion', greedy, nodes)).toMatch(
      /embedding needs a validator node; none is connected/,
    );
    // An embedding request is compared with another worker's vectors: no validator needed.
    expect(missingForCheck(parseValidationLevel('embedding'), 'embedding', undefined, nodes)).toBeNull();
  });

  it('does not count a validator that shares the only worker wallet', () => {
    const nodes = { workers: [node('w1', '0xa')], validators: [node('v1', '0xa')] };
    expect(missingForCheck(parseValidationLevel('likelihood'), 'chat', greedy, nodes)).toMatch(
      /needs a validator independent of the worker/,
    );
    const other = { workers: [node('w1', '0xa')], validators: [node('v1', '0xb')] };
    expect(missingForCheck(parseValidationLevel('likelihood'), 'chat', greedy, other)).toBeNull();
  });

  it('counts independent workers for redundant:k and checksum: one wallet is one vote', () => {
    const two = { workers: [node('w1'), node('w2')], validators: [node('v1')] };
    expect(missingForCheck(parseValidationLevel('redundant:3'), 'chat', greedy, two)).toBe(
      'validation: redundant:3 needs 3 independent workers (different nodes and payout wallets); 2 are connected',
    );
    expect(missingForCheck(parseValidationLevel('redundant:2'), 'chat', greedy, two)).toBeNull();
    const twins = { workers: [node('w1', '0xa'), node('w2', '0xa')], validators: [] };
    expect(missingForCheck(parseValidationLevel('checksum'), 'chat', greedy, twins)).toMatch(
      /checksum needs 2 independent workers .* 1 is connected/,
    );
  });

  it('never refuses auto or none', () => {
    const alone = { workers: [node('w1')], validators: [] };
    expect(missingForCheck(parseValidationLevel('auto'), 'chat', greedy, alone)).toBeNull();
    expect(missingForCheck(parseValidationLevel('none'), 'chat', greedy, alone)).toBeNull();
  });
});
