/** Gas per contract operation on the in-process EVM (`npm run bench -- chain`); docs/benchmarks.md has them. */
import { type Address, getAddress, keccak256, maxUint256, toHex } from 'viem';
import { buildRewardTree, type RewardLeaf } from '../src/chain/merkle.js';
import { deployedChain, omnit } from '../src/chain/testing.js';
import { signVoucher } from '../src/chain/vouchers.js';

// Uniswap's MerkleDistributor claim, as its README and tests give it, for comparison.
const MERKLE_DISTRIBUTOR_CLAIM_GAS = 77_000;

export async function chainBench(): Promise<Record<string, unknown>> {
  const env = await deployedChain();
  const gas: Record<string, number> = {};
  const at = (i: number) => env.accounts[i]?.address as Address;
  const owner = env.clientOf(1);
  await env.admin.write('token', 'transfer', [at(1), omnit(1000)]);
  await owner.write('token', 'approve', [env.deployment.staking, maxUint256]);
  await owner.write('token', 'approve', [env.deployment.vault, maxUint256]);
  const node = keccak256(toHex('node-1'));
  const used = async (name: string, p: Promise<{ gasUsed: bigint }>) => {
    gas[name] = Number((await p).gasUsed);
  };
  await used('stake (a new node)', owner.write('staking', 'stake', [node, omnit(100)]));
  await used('stake (more on the same node)', owner.write('staking', 'stake', [node, omnit(10)]));
  await used('unstake', owner.write('staking', 'unstake', [node, omnit(10)]));
  await env.advance(3601);
  await used('withdraw unbonded stake', owner.write('staking', 'withdraw', [node]));
  await used('slash', env.admin.write('staking', 'slash', [node, omnit(1), node]));

  // Epochs of 100 accounts (proofs of 7 hashes); each wallet claims its own leaf (claimOwn): account 2 is a fresh wallet that never held OMNIT, account 1
  // holds OMNIT already. Account 4 claims first, so the figures are those of a running network.
  const others = Array.from({ length: 97 }, (_, i) => getAddress(keccak256(toHex(`acct-${i}`)).slice(0, 42)));
  const tree = (epoch: number) =>
    buildRewardTree(epoch, [
      { account: at(1), amount: omnit(5) },
      { account: at(2), amount: omnit(5) },
      { account: at(4), amount: omnit(5) },
      ...others.map((account, i) => ({ account, amount: omnit(i + 1) })),
    ]);
  const claimer = env.clientOf(2);
  for (let e = 1; e <= 6; e++) {
    const t = tree(e);
    const receipt = env.admin.write('rewards', 'postRoot', [BigInt(e), t.root, t.root, t.total]);
    if (e === 1) await used('post an epoch root', receipt);
    else await receipt;
  }
  const claim = (epoch: number, who = 2) => {
    const p = tree(epoch).proof(at(who));
    if (!p) throw new Error('no proof');
    return env.clientOf(who).claim(epoch, p.leaf.index, at(who), p.leaf.amount, p.proof);
  };
  await claim(1, 4);
  await used('claim: first claim of a fresh wallet (never held OMNIT), 100 leaves', claim(1));
  await used('claim: first claim of a wallet that holds OMNIT, 100 leaves', claim(1, 1));
  await used('claim: a later epoch (repeat claimer, holds OMNIT), 100 leaves', claim(2));
  const many = [3, 4, 5, 6].map((e) => tree(e).proof(at(2)));
  await used(
    'claimMany: 4 epochs in one transaction',
    claimer.write('rewards', 'claimMany', [
      [3n, 4n, 5n, 6n],
      many.map((p) => BigInt(p?.leaf.index ?? 0)),
      at(2),
      many.map((p) => p?.leaf.amount ?? 0n),
      many.map((p) => p?.proof ?? []),
    ]),
  );
  // An epoch of 400 leaves (proofs of 9 hashes), claimed by account 2 for others (claim names the account): leaves from 208 on keep their claim bits in words of 256 outside the epoch's slot.
  const big = buildRewardTree(
    7,
    Array.from({ length: 400 }, (_, i) => ({
      account: getAddress(keccak256(toHex(`big-${i}`)).slice(0, 42)),
      amount: omnit(1),
    })),
  );
  await env.admin.write('rewards', 'postRoot', [7n, big.root, big.root, big.total]);
  const claimLeaf = (index: number) => {
    const leaf = big.leaves.find((l) => l.index === index) as RewardLeaf;
    const p = big.proof(leaf.account);
    return claimer.claim(7, index, leaf.account, leaf.amount, p?.proof ?? []);
  };
  await used(
    'claim for another account: leaf >= 208, first of its bit word, fresh wallet, 400 leaves',
    claimLeaf(300),
  );
  await used(
    'claim for another account: leaf >= 208, word already written, fresh wallet, 400 leaves',
    claimLeaf(301),
  );
  await used('claim for another account: leaf < 208, fresh wallet, 400 leaves', claimLeaf(100));

  await used('vault deposit', owner.write('vault', 'deposit', [omnit(50), at(1)]));
  const voucher = { account: at(3), amount: omnit(20), nonce: 1n, deadline: 2n ** 40n };
  const signature = await signVoucher({
    privateKey: env.accounts[0]?.privateKey as `0x${string}`,
    chainId: env.deployment.chainId,
    vault: env.deployment.vault,
    voucher,
  });
  await used(
    'vault withdraw (voucher, fresh wallet)',
    owner.write('vault', 'withdraw', [
      voucher.account,
      voucher.amount,
      voucher.nonce,
      voucher.deadline,
      signature,
    ]),
  );
  await env.close();
  return {
    evm: 'ganache 7.9.2 (hardfork shanghai), solc 0.8.37, via IR, optimizer 10,000 runs',
    gas,
    merkleDistributorClaim: MERKLE_DISTRIBUTOR_CLAIM_GAS,
    claimTarget: 70_000,
  };
}
