import { type Address, getAddress, keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRewardTree, type RewardLeaf } from './merkle.js';
import { revertName } from './retry.js';
import { deployedChain, omnit } from './testing.js';
import { signVoucher } from './vouchers.js';

type Env = Awaited<ReturnType<typeof deployedChain>>;
let env: Env;
const addr = (i: number) => env.accounts[i]?.address as Address;
const node = (n: number) => keccak256(toHex(`node-${n}`));

/** The custom error a call reverted with. */
async function reverts(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    return revertName(error) ?? `not a revert: ${(error as Error).message}`;
  }
  return undefined;
}

beforeAll(async () => {
  env = await deployedChain({ settings: { challengeSeconds: 600 } });
}, 60_000);
afterAll(() => env?.close());

describe('OmniToken', () => {
  it('is OMNIT with 18 decimals, its genesis split minted once at deployment', async () => {
    expect(await env.admin.read('token', 'symbol')).toBe('OMNIT');
    expect(await env.admin.read('token', 'name')).toBe('OmniTensor');
    expect(await env.admin.read('token', 'decimals')).toBe(18);
    expect(await env.admin.read('token', 'totalSupply')).toBe(omnit(10_000_000));
    expect(await env.admin.balanceOf(env.deployment.rewards)).toBe(omnit(1_000_000));
    expect(await env.admin.balanceOf(addr(0))).toBe(omnit(9_000_000));
  });
});

describe('EpochRewards', () => {
  const lines = () => [
    { account: addr(1), amount: omnit(3) },
    { account: addr(2), amount: omnit(5) },
    { account: addr(3), amount: omnit(7) },
  ];

  it('pays a claim with a good proof once the challenge window passed, and only once', async () => {
    const tree = buildRewardTree(1, lines());
    await env.admin.postRoot(1, tree.root, keccak256(toHex('report 1')), tree.total);
    const p = tree.proof(addr(2));
    if (!p) throw new Error('no proof');
    const claimer = env.clientOf(2);
    expect(await reverts(claimer.claim(1, p.leaf.index, addr(2), p.leaf.amount, p.proof))).toBe(
      'RootNotFinal',
    );
    await env.advance(601);
    await claimer.claim(1, p.leaf.index, addr(2), p.leaf.amount, p.proof);
    expect(await env.admin.balanceOf(addr(2))).toBe(omnit(5));
    expect(await reverts(claimer.claim(1, p.leaf.index, addr(2), p.leaf.amount, p.proof))).toBe(
      'AlreadyClaimed',
    );
    expect(await env.admin.balanceOf(addr(2))).toBe(omnit(5));
  });

  it('rejects a wrong amount, another account and a wrong proof with InvalidProof', async () => {
    const tree = buildRewardTree(1, lines());
    const p = tree.proof(addr(1));
    if (!p) throw new Error('no proof');
    const c = env.clientOf(1);
    expect(await reverts(c.claim(1, p.leaf.index, addr(1), omnit(4), p.proof))).toBe('InvalidProof');
    expect(await reverts(c.claim(1, p.leaf.index, addr(4), omnit(3), p.proof))).toBe('InvalidProof');
    expect(await reverts(c.claim(1, p.leaf.index, addr(1), omnit(3), [keccak256(toHex('x'))]))).toBe(
      'InvalidProof',
    );
    expect(await reverts(c.claim(2, p.leaf.index, addr(1), omnit(3), p.proof))).toBe('UnknownEpoch');
  });

  it('lets only the router post, once per epoch, within the pool; the owner vetoes within the window', async () => {
    const tree = buildRewardTree(2, lines());
    const stranger = env.clientOf(5);
    expect(await reverts(stranger.write('rewards', 'postRoot', [2n, tree.root, tree.root, tree.total]))).toBe(
      'AccessControlUnauthorizedAccount',
    );
    expect(
      await reverts(env.admin.write('rewards', 'postRoot', [2n, tree.root, tree.root, omnit(2_000_000)])),
    ).toBe('InsufficientRewardsPool');
    await env.admin.write('rewards', 'postRoot', [2n, tree.root, tree.root, tree.total]);
    expect(
      await reverts(env.admin.write('rewards', 'postRoot', [2n, tree.root, tree.root, tree.total])),
    ).toBe('EpochAlreadyPosted');
    expect(await reverts(stranger.write('rewards', 'veto', [2n, tree.root]))).toBe(
      'AccessControlUnauthorizedAccount',
    );
    await env.admin.write('rewards', 'veto', [2n, keccak256(toHex('wrong report'))]);
    await env.advance(601);
    const p = tree.proof(addr(3));
    if (!p) throw new Error('no proof');
    expect(await reverts(env.clientOf(3).claim(2, p.leaf.index, addr(3), p.leaf.amount, p.proof))).toBe(
      'RootVetoed',
    );
    // A corrected root may follow a veto.
    const fixed = buildRewardTree(2, [{ account: addr(3), amount: omnit(1) }]);
    await env.admin.postRoot(2, fixed.root, fixed.root, fixed.total);
    await env.advance(601);
    expect(await reverts(env.admin.write('rewards', 'veto', [2n, fixed.root]))).toBe('ChallengeWindowClosed');
    await env.clientOf(3).claim(2, 0, addr(3), omnit(1), fixed.proof(addr(3))?.proof ?? []);
    expect(await env.admin.balanceOf(addr(3))).toBe(omnit(1));
  });
});

describe('EpochRewards claim bits and pool', () => {
  it('keeps one claim bit per leaf, in the epoch slot and beyond leaf 208, whoever sends the claim', async () => {
    const stranger = (i: number) => getAddress(keccak256(toHex(`s${i}`)).slice(0, 42));
    const tree = buildRewardTree(
      3,
      Array.from({ length: 260 }, (_, i) => ({ account: stranger(i), amount: omnit(1) })),
    );
    await env.admin.postRoot(3, tree.root, tree.root, tree.total);
    await env.advance(601);
    const leaf = (index: number) => {
      const l = tree.leaves.find((x) => x.index === index) as RewardLeaf;
      return { ...l, proof: tree.proof(l.account)?.proof ?? [] };
    };
    const sender = env.clientOf(4);
    const claim = (l: ReturnType<typeof leaf>, index = l.index) =>
      sender.claim(3, index, l.account, l.amount, l.proof);
    for (const i of [0, 207, 230]) await claim(leaf(i));
    for (const i of [0, 207, 230]) {
      expect(await env.admin.balanceOf(leaf(i).account)).toBe(omnit(1));
      expect(await env.admin.isClaimed(3, i)).toBe(true);
      expect(await reverts(claim(leaf(i)))).toBe('AlreadyClaimed');
    }
    expect(await env.admin.isClaimed(3, 1)).toBe(false);
    expect(await env.admin.isClaimed(3, 231)).toBe(false);
    // A leaf's proof under another index (another claim bit) is not a leaf of the tree.
    expect(await reverts(claim(leaf(231), 232))).toBe('InvalidProof');
    await claim(leaf(231));
    expect(await env.admin.balanceOf(leaf(231).account)).toBe(omnit(1));
  });

  it('lets roots promise only what the pool was funded with', async () => {
    const available = async () =>
      (await env.admin.read<bigint>('rewards', 'funded')) -
      (await env.admin.read<bigint>('rewards', 'promised'));
    const before = await available();
    const root = keccak256(toHex('epoch 4'));
    expect(await reverts(env.admin.write('rewards', 'postRoot', [4n, root, root, before + 1n]))).toBe(
      'InsufficientRewardsPool',
    );
    await env.admin.write('token', 'approve', [env.deployment.rewards, omnit(10)]);
    await env.admin.write('rewards', 'fund', [omnit(10)]);
    await env.admin.write('rewards', 'postRoot', [4n, root, root, before + omnit(10)]);
    expect(await available()).toBe(0n);
  });
});

describe('NodeStaking', () => {
  it('stakes per node, unbonds for the period, and shows stake per node and per owner', async () => {
    const owner = env.clientOf(6);
    await env.admin.write('token', 'transfer', [addr(6), omnit(100)]);
    await owner.write('token', 'approve', [env.deployment.staking, omnit(100)]);
    await owner.write('staking', 'stake', [node(1), omnit(60)]);
    await owner.write('staking', 'stake', [node(2), omnit(40)]);
    expect(await reverts(env.clientOf(7).write('staking', 'unstake', [node(1), 1n]))).toBe('NotNodeOwner');
    expect(await reverts(owner.write('staking', 'unstake', [node(1), omnit(61)]))).toBe('InsufficientStake');
    await owner.write('staking', 'unstake', [node(1), omnit(10)]);
    expect(await reverts(owner.write('staking', 'withdraw', [node(1)]))).toBe('StillUnbonding');
    expect(await owner.read('staking', 'stakeOfOwner', [addr(6)])).toEqual([omnit(90), omnit(10)]);
    expect(await owner.read('staking', 'nodesOf', [addr(6)])).toEqual([node(1), node(2)]);
    await env.advance(3601);
    await owner.write('staking', 'withdraw', [node(1)]);
    expect(await env.admin.balanceOf(addr(6))).toBe(omnit(10));
  });

  it('slashes only from the router, with the evidence hash in the event', async () => {
    const evidence = keccak256(toHex('task_1 failed its check'));
    expect(await reverts(env.clientOf(6).write('staking', 'slash', [node(2), omnit(1), evidence]))).toBe(
      'AccessControlUnauthorizedAccount',
    );
    expect(await reverts(env.admin.write('staking', 'slash', [node(2), omnit(41), evidence]))).toBe(
      'SlashTooLarge',
    );
    const receipt = await env.admin.write('staking', 'slash', [node(2), omnit(4), evidence]);
    expect(receipt.logs.some((l) => l.data.includes(evidence.slice(2)))).toBe(true);
    // The same evidence slashes once: a router that sends it again (a lost answer, a restart) takes nothing more.
    expect(await reverts(env.admin.write('staking', 'slash', [node(2), omnit(4), evidence]))).toBe(
      'EvidenceUsed',
    );
    const s = await env.admin.read<{ bonded: bigint }>('staking', 'stakeOf', [node(2)]);
    expect(s.bonded).toBe(omnit(36));
  });
});

describe('Vault', () => {
  it('refuses a deposit below the minimum and pays a voucher once', async () => {
    const user = env.clientOf(8);
    await env.admin.write('token', 'transfer', [addr(8), omnit(50)]);
    await user.write('token', 'approve', [env.deployment.vault, omnit(50)]);
    expect(await reverts(user.write('vault', 'deposit', [omnit(0.5), addr(8)]))).toBe('DepositBelowMinimum');
    await user.write('vault', 'deposit', [omnit(50), addr(8)]);
    const voucher = { account: addr(9), amount: omnit(20), nonce: 7n, deadline: 2n ** 40n };
    const sign = (privateKey: `0x${string}`) =>
      signVoucher({ privateKey, chainId: env.deployment.chainId, vault: env.deployment.vault, voucher });
    const args = async (key: `0x${string}`) =>
      [voucher.account, voucher.amount, voucher.nonce, voucher.deadline, await sign(key)] as const;
    const forged = await args(env.accounts[9]?.privateKey as `0x${string}`);
    expect(await reverts(user.write('vault', 'withdraw', forged))).toBe('InvalidVoucherSigner');
    const good = await args(env.accounts[0]?.privateKey as `0x${string}`);
    await user.write('vault', 'withdraw', good);
    expect(await env.admin.balanceOf(addr(9))).toBe(omnit(20));
    expect(await reverts(user.write('vault', 'withdraw', good))).toBe('VoucherUsed');
    expect(await env.admin.balanceOf(addr(9))).toBe(omnit(20));
  });
});
