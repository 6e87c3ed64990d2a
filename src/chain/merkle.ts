import { type Address, concat, encodeAbiParameters, getAddress, type Hex, keccak256, toBytes } from 'viem';

/**
 * One leaf of an epoch's reward tree: what `account` may claim for `epoch`. `index` numbers the epoch's
 * leaves from 0 (accounts in ascending address order) and picks the leaf's claim bit on chain.
 */
export type RewardLeaf = { index: number; account: Address; amount: bigint; epoch: number };

/** The leaf hash EpochRewards checks: keccak256(abi.encode(index, account, amount, epoch)). */
export function leafHash(leaf: RewardLeaf): Hex {
  const encoded = encodeAbiParameters(
    [{ type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'uint256' }],
    [BigInt(leaf.index), leaf.account, leaf.amount, BigInt(leaf.epoch)],
  );
  // Hashed once: the encoding is 128 bytes and an inner node hashes 64, so no leaf can pass for an inner node
  // (OpenZeppelin's StandardMerkleTree hashes twice for leaves that could be 64 bytes; once is cheaper).
  return keccak256(encoded);
}

/** OpenZeppelin's commutative pair hash: the smaller hash goes first. */
function hashPair(a: Hex, b: Hex): Hex {
  return a < b ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** An epoch's reward tree: its root, total, leaves and a proof for each account. */
export type RewardTree = {
  epoch: number;
  root: Hex;
  total: bigint;
  leaves: RewardLeaf[];
  proof(account: string): { leaf: RewardLeaf; proof: Hex[] } | undefined;
};

/**
 * Builds the tree of an epoch's rewards. Leaf hashes are sorted, so the same lines in any order give the same
 * root; a level of odd length carries its last hash up unpaired. With no leaves the root is zero (nothing to post).
 */
export function buildRewardTree(epoch: number, lines: { account: string; amount: bigint }[]): RewardTree {
  // One leaf per account (an owner may run several nodes that pay to the same wallet), numbered in address
  // order so the same lines in any order give the same leaves; EpochRewards keeps one claim bit per index.
  const sums = new Map<Address, bigint>();
  for (const l of lines) {
    if (l.amount <= 0n) continue;
    const account = getAddress(l.account);
    sums.set(account, (sums.get(account) ?? 0n) + l.amount);
  }
  const leaves = [...sums]
    .sort(([a], [b]) => cmp(a.toLowerCase() as Hex, b.toLowerCase() as Hex))
    .map(([account, amount], index) => ({ index, account, amount, epoch }));
  const hashed = leaves.map((leaf) => ({ leaf, hash: leafHash(leaf) })).sort((a, b) => cmp(a.hash, b.hash));
  const levels: Hex[][] = [hashed.map((h) => h.hash)];
  for (let level = levels[0] as Hex[]; level.length > 1; ) {
    const next: Hex[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Hex;
      const right = level[i + 1];
      next.push(right === undefined ? left : hashPair(left, right));
    }
    levels.push(next);
    level = next;
  }
  const top = levels[levels.length - 1] as Hex[];
  const root: Hex = top[0] ?? `0x${'00'.repeat(32)}`;
  const index = new Map(hashed.map((h, i) => [h.leaf.account, i]));
  let total = 0n;
  for (const l of leaves) total += l.amount;
  return {
    epoch,
    root,
    total,
    leaves: hashed.map((h) => h.leaf),
    proof(account) {
      let i = index.get(getAddress(account));
      if (i === undefined) return undefined;
      const leaf = hashed[i]?.leaf as RewardLeaf;
      const proof: Hex[] = [];
      for (const level of levels.slice(0, -1)) {
        const sibling = level[i ^ 1];
        if (sibling !== undefined) proof.push(sibling);
        i >>= 1;
      }
      return { leaf, proof };
    },
  };
}

/** Verifies a proof the way OpenZeppelin's MerkleProof does. */
export function verifyRewardProof(root: Hex, leaf: RewardLeaf, proof: Hex[]): boolean {
  let hash = leafHash(leaf);
  for (const p of proof) hash = hashPair(hash, p);
  return hash === root;
}

/**
 * The report hash posted beside the root: keccak256 of the report's lines (epoch, node, account, amount,
 * sorted by node) as JSON, so anyone holding the published report can check it is the one the root came from.
 */
export function reportHash(epoch: number, lines: { node: string; account: string; amount: bigint }[]): Hex {
  const canonical = lines
    .map((l) => ({
      node: l.node.toLowerCase(),
      account: l.account.toLowerCase(),
      amount: l.amount.toString(),
    }))
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return keccak256(toBytes(JSON.stringify({ epoch, rewards: canonical })));
}

function cmp(a: Hex, b: Hex): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
