import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../store/index.js';
import { agreedPrefix, EarlyReplicas } from './stream-release.js';
import { TaskHandle } from './task-manager.js';

describe('agreedPrefix', () => {
  it('releases what enough replicas streamed too, and stops at a divergence', () => {
    expect(agreedPrefix('the cat sat', ['the cat'], 1)).toBe('the cat');
    expect(agreedPrefix('the cat sat', ['the dog sat'], 1)).toBe('the ');
    expect(agreedPrefix('the cat', ['the cat sat on'], 1)).toBe('the cat');
    expect(agreedPrefix('the cat', [], 1)).toBe('');
  });

  it('needs the given number of replicas to agree (redundant:k)', () => {
    // redundant:5 needs the worker and 2 replicas: the second-longest agreement decides.
    expect(agreedPrefix('abcdef', ['abcdef', 'abX', 'abcd'], 2)).toBe('abcd');
    expect(agreedPrefix('abcdef', ['abcdef', 'X'], 2)).toBe('');
  });

  it('never ends between the halves of a surrogate pair', () => {
    const worker = 'ok 😀';
    const split = worker.slice(0, worker.length - 1);
    expect(agreedPrefix(worker, [split], 1)).toBe('ok ');
  });
});

describe('EarlyReplicas', () => {
  const party = (nodeId: string) => ({ nodeId, wallet: `w-${nodeId}`, addressGroup: null });
  const handle = (id: string) => new TaskHandle({ id } as TaskRecord);

  it('places replica i+1 only once replica i is leased, avoiding the worker and every replica before it', async () => {
    const submitted: { avoid: string[]; check: TaskHandle }[] = [];
    const released: string[] = [];
    const early = new EarlyReplicas(
      1,
      1,
      2,
      party('worker'),
      party,
      (avoid, watch) => {
        const check = handle(`check_${submitted.length}`);
        submitted.push({ avoid: avoid.map((p) => p.nodeId), check });
        watch(check);
        return new Promise(() => {});
      },
      () => released.push(early.agreed('hello world')),
    );
    await Promise.resolve();
    expect(submitted.map((s) => s.avoid)).toEqual([['worker']]);
    submitted[0]?.check.emit('leased', 'r1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(submitted.map((s) => s.avoid)).toEqual([['worker'], ['worker', 'r1']]);
    submitted[0]?.check.emit('text', 'hello w');
    submitted[1]?.check.emit('text', 'help');
    expect(released).toEqual(['hello w', 'hello w']);
    expect(early.taskIds).toEqual(['check_0', 'check_1']);
  });

  it('places the next replica when one ends without a lease (no node could take it)', async () => {
    const avoids: string[][] = [];
    let fail!: (error: Error) => void;
    new EarlyReplicas(
      1,
      1,
      2,
      party('worker'),
      party,
      (avoid) => {
        avoids.push(avoid.map((p) => p.nodeId));
        return avoids.length === 1
          ? new Promise((_, reject) => {
              fail = reject;
            })
          : new Promise(() => {});
      },
      () => {},
    );
    await Promise.resolve();
    fail(new Error('no independent worker'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(avoids).toEqual([['worker'], ['worker']]);
  });
});
