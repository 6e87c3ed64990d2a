import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../../protocol/index.js';
import { CheckerSet } from './checker-set.js';
import { type Lease, type QueuedTask, Scheduler } from './scheduler.js';

const MODEL = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

function setup(
  options: {
    queueLimit?: number;
    maxAttempts?: number;
    leaseGraceMs?: number;
    reachable?: (lease: Lease) => boolean;
  } = {},
) {
  let now = 1_000;
  const assigned: Lease[] = [];
  const gaveUp: string[] = [];
  const scheduler = new Scheduler({
    queueLimit: options.queueLimit ?? 100,
    maxAttempts: options.maxAttempts ?? 3,
    leaseGraceMs: options.leaseGraceMs ?? 1_000,
    now: () => now,
  });
  scheduler.start({
    assign: (lease) => {
      assigned.push(lease);
      return options.reachable?.(lease) ?? true;
    },
    giveUp: (task) => gaveUp.push(task.id),
  });
  const task = (id: string, modelSha256 = MODEL): QueuedTask => ({
    id,
    modelSha256,
    maxTokens: 100,
    attempts: 0,
  });
  return { scheduler, assigned, gaveUp, task, advance: (ms: number) => (now += ms) };
}

describe('scheduler', () => {
  it('gives a task only to a node that holds its model', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'n1', slots: 1, models: new Map([[OTHER, 100]]) });
    scheduler.addNode({ id: 'n2', slots: 1, models: new Map([[MODEL, 10]]) });
    scheduler.enqueue(task('t1'));
    expect(assigned.map((l) => l.nodeId)).toEqual(['n2']);
  });

  it('prefers the node measured faster and respects each node concurrency', () => {
    const { scheduler, assigned, task, advance } = setup();
    // Claims say the opposite of what the router measures: the measurement wins.
    scheduler.addNode({ id: 'slow', slots: 1, models: new Map([[MODEL, 5000]]) });
    scheduler.addNode({ id: 'fast', slots: 2, models: new Map([[MODEL, 5]]) });
    scheduler.enqueue(task('warm-slow'));
    scheduler.enqueue(task('warm-fast'));
    expect(assigned.map((l) => l.nodeId)).toEqual(['slow', 'fast']);
    advance(100);
    scheduler.complete('warm-fast', 100);
    advance(900);
    scheduler.complete('warm-slow', 100);
    assigned.length = 0;
    for (const id of ['t1', 't2', 't3', 't4']) scheduler.enqueue(task(id));
    expect(assigned.map((l) => l.nodeId)).toEqual(['fast', 'fast', 'slow']);
    expect(scheduler.queuedCount).toBe(1);
    scheduler.complete('t1');
    expect(assigned[3]?.nodeId).toBe('fast');
    expect(assigned[3]?.task.id).toBe('t4');
  });

  it('prefers a node with a lower round-trip time when throughput is equal', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'far', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.addNode({ id: 'near', slots: 1, models: new Map([[MODEL, 100]]) });
    for (let i = 0; i < 20; i++) scheduler.setRoundTrip('far', 200);
    scheduler.enqueue(task('t1'));
    expect(assigned[0]?.nodeId).toBe('near');
  });

  it('moves work away from a node that keeps failing', () => {
    const { scheduler, assigned, task } = setup({ maxAttempts: 1 });
    scheduler.addNode({ id: 'flaky', slots: 1, models: new Map([[MODEL, 200]]) });
    scheduler.addNode({ id: 'steady', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('first'));
    expect(assigned[0]?.nodeId).toBe('flaky');
    scheduler.fail('first', 'flaky', 'boom', false);
    for (let i = 0; i < 4; i++) {
      scheduler.enqueue(task(`f${i}`));
      const lease = assigned.at(-1) as Lease;
      if (lease.nodeId === 'flaky') scheduler.fail(lease.task.id, 'flaky', 'boom', false);
      else scheduler.complete(lease.task.id);
    }
    scheduler.enqueue(task('next'));
    expect(assigned.at(-1)?.nodeId).toBe('steady');
  });

  it('requeues the tasks of a node that drops, with a new attempt number', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'n1', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    scheduler.removeNode('n1');
    expect(scheduler.queuedCount).toBe(1);
    scheduler.addNode({ id: 'n2', slots: 1, models: new Map([[MODEL, 100]]) });
    expect(assigned.map((l) => [l.nodeId, l.attempt])).toEqual([
      ['n1', 1],
      ['n2', 2],
    ]);
  });

  it('requeues a task whose lease deadline passed, and gives up after the allowed attempts', () => {
    const { scheduler, assigned, gaveUp, task, advance } = setup({ maxAttempts: 2 });
    scheduler.addNode({ id: 'n1', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    advance(500);
    expect(scheduler.expireLeases()).toHaveLength(0);
    advance(10_000);
    expect(scheduler.expireLeases()).toHaveLength(1);
    // The node that missed is backed off: the retry waits for another node, or for the backoff to end.
    expect(assigned).toHaveLength(1);
    expect(scheduler.queuedCount).toBe(1);
    advance(2_000);
    scheduler.expireLeases();
    expect(assigned).toHaveLength(2);
    advance(10_000);
    scheduler.expireLeases();
    expect(gaveUp).toEqual(['t1']);
    expect(scheduler.lease('t1')).toBeUndefined();
  });

  it('does not count a handed-back task against its attempts', () => {
    const { scheduler, assigned, gaveUp, task } = setup({ maxAttempts: 1 });
    scheduler.addNode({ id: 'n1', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    scheduler.handBack('t1', 'n1');
    expect(gaveUp).toEqual([]);
    expect(assigned).toHaveLength(2);
  });

  it('refuses new tasks with QueueFullError when the queue is full', () => {
    const { scheduler, task } = setup({ queueLimit: 2 });
    scheduler.enqueue(task('t1'));
    scheduler.enqueue(task('t2'));
    expect(() => scheduler.assertRoom()).toThrow(QueueFullError);
  });

  it('counts a burst of accepted tasks not yet stored as waiting only beyond the idle slots', () => {
    const { scheduler, task } = setup({ queueLimit: 2 });
    scheduler.addNode({ id: 'n1', slots: 1, models: new Map([[MODEL, 10]]) });
    // One idle slot takes the first of three at once; two wait, which fills the queue.
    expect(() => scheduler.assertRoom(2)).not.toThrow();
    expect(() => scheduler.assertRoom(3)).toThrow(QueueFullError);
    scheduler.enqueue(task('t1'));
    // The slot is taken: now every uncommitted task waits.
    expect(() => scheduler.assertRoom(1)).not.toThrow();
    expect(() => scheduler.assertRoom(2)).toThrow(QueueFullError);
  });

  it('retries elsewhere when the chosen node cannot be reached', () => {
    const { scheduler, assigned, task } = setup({ reachable: (lease) => lease.nodeId !== 'gone' });
    scheduler.addNode({ id: 'gone', slots: 1, models: new Map([[MODEL, 1000]]) });
    scheduler.addNode({ id: 'here', slots: 1, models: new Map([[MODEL, 10]]) });
    scheduler.enqueue(task('t1'));
    expect(assigned.at(-1)?.nodeId).toBe('here');
  });

  it('never gives a task to a node or wallet it must avoid, and lets the tasks behind it go first', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'worker', slots: 1, wallet: '0xw1', models: new Map([[MODEL, 500]]) });
    scheduler.addNode({ id: 'twin', slots: 1, wallet: '0xw1', models: new Map([[MODEL, 400]]) });
    const check = { ...task('check'), avoid: { nodes: new Set(['worker']), wallets: new Set(['0xw1']) } };
    scheduler.enqueue(check);
    scheduler.enqueue(task('plain'));
    expect(assigned.map((l) => [l.task.id, l.nodeId])).toEqual([['plain', 'worker']]);
    expect(scheduler.queuedCount).toBe(1);
    scheduler.addNode({ id: 'other', slots: 1, wallet: '0xw2', models: new Map([[MODEL, 10]]) });
    expect(assigned.at(-1)).toMatchObject({ nodeId: 'other', task: { id: 'check' } });
  });

  it('with many nodes, fills every free slot once and never overfills a node', () => {
    const { scheduler, assigned, task } = setup({ queueLimit: 10_000 });
    for (let i = 0; i < 500; i++)
      scheduler.addNode({ id: `n${i}`, slots: 2, models: new Map([[MODEL, 50 + (i % 7)]]) });
    for (let i = 0; i < 1200; i++) scheduler.enqueue(task(`t${i}`));
    expect(assigned).toHaveLength(1000);
    expect(scheduler.queuedCount).toBe(200);
    const perNode = new Map<string, number>();
    for (const lease of assigned) perNode.set(lease.nodeId, (perNode.get(lease.nodeId) ?? 0) + 1);
    expect(Math.max(...perNode.values())).toBe(2);
    scheduler.removeNode('n0');
    expect(scheduler.nodesPerModel().get(MODEL)).toBe(499);
    expect(scheduler.queuedCount).toBe(202);
    const elsewhere = assigned.find((l) => l.nodeId !== 'n0') as Lease;
    scheduler.complete(elsewhere.task.id);
    // The freed slot goes to one of n0's tasks, retried first with a new attempt number.
    expect(assigned).toHaveLength(1001);
    expect(assigned.at(-1)).toMatchObject({ nodeId: elsewhere.nodeId, attempt: 2 });
  });

  it('gives checks only to validators and work only to workers', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({
      id: 'checker',
      slots: 2,
      roles: new Set(['validator']),
      models: new Map([[MODEL, 900]]),
    });
    scheduler.enqueue(task('work'));
    expect(assigned).toHaveLength(0);
    expect(scheduler.canServe(MODEL)).toBe(false);
    expect(scheduler.canServe(MODEL, 'validator')).toBe(true);
    scheduler.enqueue({ ...task('check'), role: 'validator' });
    expect(assigned.map((l) => [l.task.id, l.nodeId])).toEqual([['check', 'checker']]);
    scheduler.addNode({
      id: 'both',
      slots: 1,
      roles: new Set(['worker', 'validator']),
      models: new Map([[MODEL, 10]]),
    });
    expect(assigned.at(-1)).toMatchObject({ nodeId: 'both', task: { id: 'work' } });
    expect(scheduler.nodesPerModel().get(MODEL)).toBe(1);
    expect(scheduler.nodesPerModel('validator').get(MODEL)).toBe(2);
  });

  it('prefers the node with the better verified reputation when all else is equal', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.useReputation((nodeId) => (nodeId === 'proven' ? 0.95 : 0));
    scheduler.addNode({ id: 'new', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.addNode({ id: 'proven', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    expect(assigned[0]?.nodeId).toBe('proven');
  });

  it('finds a node independent of a given one: another node, with another wallet', () => {
    const { scheduler } = setup();
    const both = new Set(['worker', 'validator'] as const);
    scheduler.addNode({ id: 'a', slots: 1, wallet: '0xw', roles: both, models: new Map([[MODEL, 10]]) });
    expect(scheduler.hasIndependent('validator', MODEL, 'a')).toBe(false);
    scheduler.addNode({ id: 'twin', slots: 1, wallet: '0xw', roles: both, models: new Map([[MODEL, 10]]) });
    expect(scheduler.hasIndependent('validator', MODEL, 'a')).toBe(false);
    scheduler.addNode({ id: 'b', slots: 1, wallet: '0xv', roles: both, models: new Map([[MODEL, 10]]) });
    expect(scheduler.hasIndependent('validator', MODEL, 'a')).toBe(true);
    scheduler.removeNode('b');
    expect(scheduler.hasIndependent('worker', MODEL, 'a')).toBe(false);
    // A node that left is still known by its wallet, so checks of its last results still avoid its twin.
    scheduler.removeNode('a');
    expect(scheduler.walletOf('a')).toBe('0xw');
  });
});

describe('scheduler leases (issue 9: trust measured work, not claims)', () => {
  it("takes an unproven node's lease back when it sends nothing within the first-token time", () => {
    const { scheduler, assigned, task, advance } = setup({ leaseGraceMs: 30_000 });
    scheduler.addNode({ id: 'hole', slots: 64, models: new Map([[MODEL, 1e9]]) });
    scheduler.enqueue(task('t1'));
    const lease = assigned[0] as Lease;
    expect(lease.firstPieceBy).toBe(lease.startedAt + 5_000);
    advance(4_999);
    expect(scheduler.expireLeases()).toHaveLength(0);
    advance(1);
    expect(scheduler.expireLeases().map((l) => l.task.id)).toEqual(['t1']);
  });

  it('keeps the lease of a node that sent its first piece, and allows a long prompt more time', () => {
    const { scheduler, assigned, task, advance } = setup({ leaseGraceMs: 30_000 });
    scheduler.addNode({ id: 'n1', slots: 2, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    scheduler.enqueue({ ...task('long'), promptChars: 40_000 });
    scheduler.heard('t1', 'n1', 1);
    expect(assigned[1]?.firstPieceBy).toBe((assigned[1]?.startedAt ?? 0) + 5_000 + 100_000);
    advance(5_001);
    expect(scheduler.expireLeases()).toHaveLength(0);
  });

  it('believes few slots of an unproven node and more as it delivers', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'n1', slots: 100, models: new Map([[MODEL, 100]]) });
    for (let i = 0; i < 10; i++) scheduler.enqueue(task(`t${i}`));
    expect(assigned).toHaveLength(2);
    scheduler.complete('t0', 10);
    // One delivered: its slot is free again and one more is believed.
    expect(assigned).toHaveLength(4);
    expect(assigned.at(-1)?.firstPieceBy).toBeNull();
  });

  it('sends the retry of a missed lease elsewhere and avoids the node that missed it', () => {
    const { scheduler, assigned, task, advance } = setup();
    scheduler.addNode({ id: 'hole', slots: 64, models: new Map([[MODEL, 1e9]]) });
    scheduler.addNode({ id: 'honest', slots: 1, models: new Map([[MODEL, 10]]) });
    scheduler.enqueue(task('busy'));
    scheduler.enqueue(task('t1'));
    expect(assigned.map((l) => [l.task.id, l.nodeId])).toEqual([
      ['busy', 'hole'],
      ['t1', 'honest'],
    ]);
    scheduler.heard('t1', 'honest', 1);
    advance(5_000);
    scheduler.expireLeases();
    scheduler.complete('t1', 10);
    expect(assigned.at(-1)).toMatchObject({ nodeId: 'honest', task: { id: 'busy' }, attempt: 2 });
    // New work goes to the honest node while the hole is backed off, even with a slot free on the hole.
    scheduler.complete('busy', 10);
    scheduler.enqueue(task('t2'));
    expect(assigned.at(-1)).toMatchObject({ nodeId: 'honest', task: { id: 't2' } });
  });

  it('sizes a lease by measured speed, not by a claimed one', () => {
    const { scheduler, assigned, task, advance } = setup();
    scheduler.addNode({ id: 'n1', slots: 4, models: new Map([[MODEL, 1e9]]) });
    scheduler.enqueue(task('t1'));
    advance(1_000);
    scheduler.complete('t1', 100);
    scheduler.enqueue(task('t2'));
    const lease = assigned.at(-1) as Lease;
    // Measured 100 tokens/s: 100 tokens take 1 s, the lease allows grace (1 s) + 4 x 1 s.
    expect(lease.deadline - lease.startedAt).toBe(5_000);
  });
});

describe('scheduler: who takes a check (issue 9, Sybil-resistant checking)', () => {
  it('never gives a check to a node on the network (/24 or /48) it must avoid, whatever its wallet', () => {
    const { scheduler, assigned, task } = setup();
    const node = (id: string, group: string | null) =>
      scheduler.addNode({
        id,
        slots: 1,
        models: new Map([[MODEL, 1000]]),
        wallet: `0x${id}`,
        addressGroup: group,
      });
    node('sybil', '203.0.113.0/24');
    node('honest', '198.51.100.0/24');
    const check = {
      ...task('check'),
      avoid: { nodes: new Set(['worker']), groups: new Set(['203.0.113.0/24']) },
    };
    scheduler.enqueue(check);
    expect(assigned.map((l) => l.nodeId)).toEqual(['honest']);
    expect(scheduler.hasIndependent('worker', MODEL, 'sybil')).toBe(true);
  });

  it('gives a check only to its checkers, drawn among them rather than by speed', () => {
    const { scheduler, assigned, task } = setup();
    scheduler.addNode({ id: 'fast-partner', slots: 8, models: new Map([[MODEL, 10_000]]) });
    scheduler.addNode({ id: 'slow-a', slots: 8, models: new Map([[MODEL, 1]]) });
    scheduler.addNode({ id: 'slow-b', slots: 8, models: new Map([[MODEL, 1]]) });
    const checkers = new Map([
      ['slow-a', 0n],
      ['slow-b', 0n],
    ]);
    for (let i = 0; i < 12; i++) scheduler.enqueue({ ...task(`check-${i}`), checkers });
    expect(assigned.length).toBeGreaterThan(0);
    expect(assigned.filter((l) => !checkers.has(l.nodeId))).toEqual([]);
  });
});

describe('scheduler: a lease whose stream goes quiet is taken back (issue 9)', () => {
  it('takes back a lease that sent one piece and then nothing for longer than the quiet floor', () => {
    const { scheduler, assigned, task, advance } = setup({ leaseGraceMs: 30_000 });
    scheduler.addNode({ id: 'staller', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    const staller = assigned[0] as Lease;
    scheduler.heard(staller.task.id, 'staller', staller.attempt);
    advance(5_000);
    expect(scheduler.expireLeases()).toHaveLength(0);
    advance(1);
    expect(scheduler.expireLeases().map((l) => l.nodeId)).toEqual(['staller']);
    // Long before the lease's own deadline.
    expect(staller.deadline - staller.startedAt).toBeGreaterThan(30_000);
  });

  it('keeps a lease whose pieces keep coming, and allows a slow node 20 times its measured gap', () => {
    const { scheduler, assigned, task, advance } = setup({ leaseGraceMs: 600_000 });
    scheduler.addNode({ id: 'slow', slots: 1, models: new Map([[MODEL, 1]]) });
    scheduler.enqueue(task('t1'));
    const lease = assigned[0] as Lease;
    // Pieces every 4 s: each gap is under the 5 s floor, so the lease stays.
    for (let i = 0; i < 5; i++) {
      scheduler.heard('t1', 'slow', lease.attempt);
      advance(4_000);
      expect(scheduler.expireLeases()).toHaveLength(0);
    }
    // Measured gap 4 s: the stream may now pause up to 80 s.
    scheduler.heard('t1', 'slow', lease.attempt);
    advance(79_000);
    expect(scheduler.expireLeases()).toHaveLength(0);
    advance(1_001);
    expect(scheduler.expireLeases().map((l) => l.task.id)).toEqual(['t1']);
  });

  it('allows a stream to pause while its node evaluates another task’s long prompt', () => {
    const { scheduler, assigned, task, advance } = setup({ leaseGraceMs: 600_000 });
    scheduler.addNode({ id: 'n1', slots: 2, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('t1'));
    scheduler.heard('t1', 'n1', 1);
    // 40,000 characters: 100 s of prompt at 100 tokens/s, during which t1's stream may stall.
    scheduler.enqueue({ ...task('long'), promptChars: 40_000 });
    expect(assigned).toHaveLength(2);
    advance(60_000);
    expect(scheduler.expireLeases()).toHaveLength(0);
  });

  it('uses the configured quiet floor, and a node that stalled is backed off like one that missed a lease', () => {
    let now = 0;
    const assigned: Lease[] = [];
    const scheduler = new Scheduler({
      queueLimit: 10,
      maxAttempts: 3,
      leaseGraceMs: 30_000,
      quietFloorMs: 1_000,
      now: () => now,
    });
    scheduler.start({ assign: (l) => assigned.push(l) > 0, giveUp: () => {} });
    scheduler.addNode({ id: 'staller', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue({ id: 't1', modelSha256: MODEL, maxTokens: 100, attempts: 0 });
    scheduler.heard('t1', 'staller', 1);
    now += 1_001;
    expect(scheduler.expireLeases()).toHaveLength(1);
    // Backed off: the retry waits rather than going straight back to the staller.
    expect(assigned).toHaveLength(1);
  });
});

describe('scheduler: a check moves on from a checker that stops answering (fault run seed 1)', () => {
  it('passes over a checker whose lease of the check lapsed, and draws again once none is left', () => {
    const { scheduler, assigned, task, advance } = setup({ maxAttempts: 6 });
    scheduler.addNode({ id: 'seasoned', slots: 2, models: new Map([[MODEL, 100]]) });
    scheduler.addNode({ id: 'other', slots: 2, models: new Map([[MODEL, 100]]) });
    const redraws: string[][] = [];
    const checkers = new CheckerSet(new Map([['seasoned', 0n]]), (passedOver) => {
      redraws.push([...passedOver]);
      return new Map([
        ['seasoned', 0n],
        ['other', 0n],
      ]);
    });
    scheduler.enqueue({ ...task('check'), checkers });
    expect(assigned.map((l) => l.nodeId)).toEqual(['seasoned']);
    // The seasoned checker never answers; it stays connected. Before, the check waited on it alone.
    advance(60_000);
    expect(scheduler.expireLeases().map((l) => l.nodeId)).toEqual(['seasoned']);
    expect(redraws).toEqual([['seasoned']]);
    expect(assigned.map((l) => l.nodeId)).toEqual(['seasoned', 'other']);
    expect(checkers.has('seasoned')).toBe(false);
  });

  it('moves a queued check off a checker that missed another lease, rather than wait out its backoff', () => {
    const { scheduler, assigned, task, advance } = setup({ maxAttempts: 6 });
    scheduler.addNode({ id: 'flaky', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('work'));
    scheduler.addNode({ id: 'other', slots: 1, models: new Map([[MODEL, 100]]) });
    scheduler.enqueue(task('busy-other'));
    expect(assigned.map((l) => [l.task.id, l.nodeId])).toEqual([
      ['work', 'flaky'],
      ['busy-other', 'other'],
    ]);
    // Drawn for the flaky node alone, the check waits: that node is busy.
    const checkers = new CheckerSet(new Map([['flaky', 0n]]), () => new Map([['other', 0n]]));
    scheduler.enqueue({ ...task('check'), checkers });
    expect(assigned).toHaveLength(2);
    scheduler.complete('busy-other', 10);
    expect(assigned).toHaveLength(2);
    // The flaky node misses its lease of `work`: the check goes to the other node now, not after the backoff.
    advance(60_000);
    scheduler.expireLeases();
    expect(assigned.find((l) => l.task.id === 'check')?.nodeId).toBe('other');
  });

  it('leaves the check unplaceable (for the verifier to bound) when the redraw finds nobody', () => {
    const { scheduler, assigned, task, advance } = setup({ maxAttempts: 6 });
    scheduler.addNode({ id: 'only', slots: 2, models: new Map([[MODEL, 100]]) });
    const checkers = new CheckerSet(new Map([['only', 0n]]), () => new Map([['only', 0n]]));
    scheduler.enqueue({ ...task('check'), checkers });
    advance(60_000);
    scheduler.expireLeases();
    advance(600_000);
    scheduler.expireLeases();
    expect(checkers.size).toBe(0);
    expect(assigned.map((l) => l.nodeId)).toEqual(['only']);
  });

  it('draws a check left with no checker again when a node joins, and places it there', () => {
    const { scheduler, assigned, task, advance } = setup({ maxAttempts: 6 });
    scheduler.addNode({ id: 'only', slots: 2, models: new Map([[MODEL, 100]]) });
    const connected = new Set(['only']);
    const checkers = new CheckerSet(
      new Map([['only', 0n]]),
      (passedOver) => new Map([...connected].filter((id) => !passedOver.has(id)).map((id) => [id, 0n])),
    );
    scheduler.enqueue({ ...task('check'), checkers });
    advance(60_000);
    scheduler.expireLeases();
    expect(checkers.size).toBe(0);
    // A node (re)connects after the set was drawn empty: the check goes to it, not to a 503 after its wait.
    connected.add('joined');
    scheduler.addNode({ id: 'joined', slots: 1, models: new Map([[MODEL, 100]]) });
    expect(checkers.has('joined')).toBe(true);
    expect(assigned.map((l) => l.nodeId)).toEqual(['only', 'joined']);
  });
});
