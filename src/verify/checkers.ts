import { isIPv4, isIPv6 } from 'node:net';
import { isTrusted, type ReputationRecord } from './reputation.js';

/**
 * Who checks whom (issue 9's Sybil finding: two wallets of one operator vouched for each other). A wallet
 * costs nothing, so independence also asks for what a Sybil cannot split for free:
 * - network-address diversity: a checker never shares the worker's /24 (IPv4) or /48 (IPv6);
 * - a record: checks go to the nodes with a clean record (trusted, no fail since) when any is connected, so
 *   a fleet of fresh nodes cannot check each other or outvote an honest node;
 * - chance weighted by stake among the rest, so a checker cannot be predicted, and to be picked often
 *   costs bonded stake that a slash can take.
 */

/** A node that could check: its party (node, wallet, address group), its stake and its record. */
export type CheckerCandidate = {
  nodeId: string;
  wallet: string;
  /** addressGroup of the node's remote address; null: not comparable (loopback, private, unknown). */
  addressGroup: string | null;
  /** Bonded stake in the smallest unit (0n when none or unknown). */
  stake: bigint;
  record: ReputationRecord;
};

/** A node whose work is checked, as far as independence goes. */
export type CheckedParty = Pick<CheckerCandidate, 'nodeId' | 'wallet' | 'addressGroup'>;

/**
 * The network a remote address counts in: its /24 (IPv4, also IPv4-mapped IPv6) or /48 (IPv6). Loopback,
 * private, link-local and unknown addresses give null: many honest nodes share them (one machine in a test,
 * a LAN, nodes behind one reverse proxy), and the router cannot tell their operators apart by address.
 */
export function addressGroup(address: string | null | undefined): string | null {
  if (!address) return null;
  const mapped = address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  const ip = mapped ? (mapped[1] as string) : address.toLowerCase();
  if (isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    const local =
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b < 128) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168);
    return local ? null : `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  }
  if (!isIPv6(ip)) return null;
  const groups = expandIPv6(ip);
  const first = groups[0] as number;
  const local =
    groups.every((g, i) => g === (i === 7 ? 1 : 0)) || // ::1
    groups.every((g) => g === 0) ||
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80; // link-local fe80::/10
  return local
    ? null
    : `${groups
        .slice(0, 3)
        .map((g) => g.toString(16))
        .join(':')}::/48`;
}

function expandIPv6(ip: string): number[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right];
}

/** Whether two nodes may be one operator: the same node, payout wallet, or network address group. */
export function related(a: CheckedParty, b: CheckedParty): boolean {
  return (
    a.nodeId.toLowerCase() === b.nodeId.toLowerCase() ||
    a.wallet.toLowerCase() === b.wallet.toLowerCase() ||
    (a.addressGroup !== null && a.addressGroup === b.addressGroup)
  );
}

/** A clean record: trusted, with no fail since it became so (the streak alone would earn trust). */
export function hasCleanRecord(record: ReputationRecord): boolean {
  return isTrusted({ passes: record.streak, fails: 0, streak: record.streak });
}

/**
 * The nodes that may check work done by `workers` (the worker first, then anyone who already answered):
 * unrelated to every one of them, and of those the ones with a clean record if any is connected (longest
 * first). Records come only from one's own work being checked, so fresh nodes (a Sybil fleet) neither check
 * each other nor outvote an honest node in a `redundant` majority; a new network, where nobody has a
 * record yet, checks with whoever is there.
 */
export function checkerPool<T extends CheckerCandidate>(
  candidates: readonly T[],
  workers: readonly CheckedParty[],
): T[] {
  const unrelated = candidates.filter((c) => workers.every((w) => !related(c, w)));
  const seasoned = unrelated.filter((c) => hasCleanRecord(c.record));
  return seasoned.length > 0 ? seasoned.sort((a, b) => b.record.streak - a.record.streak) : unrelated;
}

/** A node's weight in the draw: its stake, or one unit when it has none (so an unstaked network is uniform). */
export function stakeWeight(stake: bigint): bigint {
  return stake > 0n ? stake : 1n;
}

/** One of `pool`, drawn with probability in proportion to stakeWeight; undefined when the pool is empty. */
export function drawByStake<T extends { stake: bigint }>(
  pool: readonly T[],
  random: () => number,
): T | undefined {
  if (pool.length === 0) return undefined;
  const total = pool.reduce((n, c) => n + stakeWeight(c.stake), 0n);
  const SCALE = 2n ** 52n;
  let point = (BigInt(Math.floor(random() * Number(SCALE))) * total) / SCALE;
  for (const candidate of pool) {
    const weight = stakeWeight(candidate.stake);
    if (point < weight) return candidate;
    point -= weight;
  }
  return pool[pool.length - 1];
}
