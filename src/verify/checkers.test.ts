import { describe, expect, it } from 'vitest';
import {
  addressGroup,
  type CheckerCandidate,
  checkerPool,
  concurringVerdicts,
  drawByStake,
  EMPTY_RECORD,
  judgeEmbedding,
  related,
} from './index.js';

const clean = { passes: 500, fails: 0, streak: 500 };
const node = (
  nodeId: string,
  wallet: string,
  address: string | null,
  extra: Partial<CheckerCandidate> = {},
) => ({
  nodeId,
  wallet,
  addressGroup: addressGroup(address),
  stake: 0n,
  record: clean,
  ...extra,
});

describe('addressGroup: the /24 or /48 a node connects from; local addresses are not comparable', () => {
  it('groups public IPv4 by /24, IPv4-mapped IPv6 the same, and IPv6 by /48', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.0/24');
    expect(addressGroup('::ffff:203.0.113.200')).toBe('203.0.113.0/24');
    expect(addressGroup('2001:db8:aa:1::5')).toBe('2001:db8:aa::/48');
    expect(addressGroup('2001:db8:aa:ffff::9')).toBe(addressGroup('2001:db8:aa::1'));
    expect(addressGroup('2001:db8:ab::1')).not.toBe(addressGroup('2001:db8:aa::1'));
  });

  it('gives null for loopback, private, link-local and unknown addresses (a test, a LAN, a proxy)', () => {
    for (const a of [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '10.1.2.3',
      '192.168.0.4',
      '172.20.0.1',
      'fe80::1',
      'fd00::1',
      '',
      null,
      'nonsense',
    ])
      expect(addressGroup(a)).toBeNull();
  });
});

describe('related: one operator may hide behind several node ids and wallets, not behind one network', () => {
  it('relates nodes of one /24 even with different wallets, and never relates two loopback nodes by address', () => {
    expect(related(node('a', 'w1', '198.51.100.1'), node('b', 'w2', '198.51.100.99'))).toBe(true);
    expect(related(node('a', 'w1', '198.51.100.1'), node('b', 'w2', '198.51.101.1'))).toBe(false);
    expect(related(node('a', 'w1', '127.0.0.1'), node('b', 'w2', '127.0.0.1'))).toBe(false);
    expect(related(node('a', 'w1', null), node('b', 'W1', null))).toBe(true);
  });
});

describe('checkerPool: who may check a result', () => {
  const worker = node('sybil-1', 'w-sybil-1', '203.0.113.10', { record: EMPTY_RECORD });

  it('leaves out a checker on the worker’s /24 with another wallet (a Sybil on the same network)', () => {
    const partner = node('sybil-2', 'w-sybil-2', '203.0.113.11');
    const far = node('honest', 'w-honest', '198.51.100.1');
    expect(checkerPool([partner, far], [worker]).map((c) => c.nodeId)).toEqual(['honest']);
  });

  it('has a node without a clean record checked by nodes with one, longest first, when any is connected', () => {
    // On loopback: addresses say nothing, wallets differ; only the record tells the fresh partner apart.
    const fresh = node('sybil-1', 'w-a', '127.0.0.1', { record: EMPTY_RECORD });
    const partner = node('sybil-2', 'w-b', '127.0.0.1', { record: EMPTY_RECORD });
    const caught = node('cheater', 'w-c', '127.0.0.1', { record: { passes: 900, fails: 3, streak: 2 } });
    const older = node('honest-1', 'w-d', '127.0.0.1', { record: { passes: 300, fails: 0, streak: 300 } });
    const oldest = node('honest-2', 'w-e', '127.0.0.1', { record: { passes: 900, fails: 0, streak: 900 } });
    expect(checkerPool([partner, caught, older, oldest], [fresh]).map((c) => c.nodeId)).toEqual([
      'honest-2',
      'honest-1',
    ]);
  });

  it('falls back to every unrelated node when nobody has a clean record yet (a new network still checks)', () => {
    const a = node('a', 'w-a', '127.0.0.1', { record: EMPTY_RECORD });
    const b = node('b', 'w-b', '127.0.0.1', { record: EMPTY_RECORD });
    expect(checkerPool([b], [a]).map((c) => c.nodeId)).toEqual(['b']);
  });

  it('keeps fresh nodes from checking a node with a record too (no Sybil majority against it)', () => {
    const honest = node('honest-1', 'w-a', '127.0.0.1');
    const sybils = [
      node('s1', 'w-s1', '127.0.0.1', { record: EMPTY_RECORD }),
      node('s2', 'w-s2', '127.0.0.1', { record: EMPTY_RECORD }),
    ];
    const other = node('honest-2', 'w-b', '127.0.0.1');
    expect(checkerPool([...sybils, other], [honest]).map((c) => c.nodeId)).toEqual(['honest-2']);
  });
});

describe('drawByStake: checkers drawn at random in proportion to bonded stake', () => {
  it('picks in proportion to stake, and uniformly when nobody has staked', () => {
    const pool = [
      { id: 'small', stake: 1_000n },
      { id: 'big', stake: 3_000n },
    ];
    const counts = { small: 0, big: 0 };
    for (let i = 0; i < 1000; i++)
      counts[(drawByStake(pool, () => (i + 0.5) / 1000) as { id: 'small' | 'big' }).id]++;
    expect(counts).toEqual({ small: 250, big: 750 });
    const unstaked = [
      { id: 'x', stake: 0n },
      { id: 'y', stake: 0n },
    ];
    expect(drawByStake(unstaked, () => 0.2)?.id).toBe('x');
    expect(drawByStake(unstaked, () => 0.7)?.id).toBe('y');
    expect(drawByStake([], () => 0.5)).toBeUndefined();
  });
});

describe('concurringVerdicts: a new node’s result passes only when two independent validators pass it', () => {
  const subject = { taskId: 'task_1', attempt: 1, nodeId: 'w1', modelSha256: 'ab'.repeat(32) };
  const pass = (validatorId: string) => ({ validatorId, judgment: judgeEmbedding([1, 0], [1, 0]) });
  const fail = (validatorId: string) => ({ validatorId, judgment: judgeEmbedding([1, 0], [0, 1]) });

  it('passes with both validators’ pass verdicts', () => {
    const verdicts = concurringVerdicts(subject, 'embedding', pass('v1'), pass('v2'), 1);
    expect(verdicts.map((v) => [v.validatorId, v.outcome])).toEqual([
      ['v1', 'pass'],
      ['v2', 'pass'],
    ]);
  });

  it('does not pass when they disagree, either way round, and blames nobody', () => {
    for (const [first, second] of [
      [pass('colluder'), fail('honest')],
      [fail('honest'), pass('colluder')],
    ] as const) {
      const verdicts = concurringVerdicts(subject, 'embedding', first, second, 1);
      expect(verdicts.map((v) => [v.nodeId, v.validatorId, v.outcome])).toEqual([
        ['w1', 'honest', 'undecided'],
      ]);
    }
  });

  it('is confirmedVerdicts when there is no second validator or both fail', () => {
    expect(concurringVerdicts(subject, 'embedding', pass('v1'), null, 1).map((v) => v.outcome)).toEqual([
      'pass',
    ]);
    expect(concurringVerdicts(subject, 'embedding', fail('v1'), fail('v2'), 1).map((v) => v.outcome)).toEqual(
      ['fail', 'fail'],
    );
  });
});
