import fc from 'fast-check';
import { type Address, keccak256, maxUint256, toHex } from 'viem';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChainClient } from './client.js';
import { buildRewardTree } from './merkle.js';
import { revertName } from './retry.js';
import { deployedChain, omnit } from './testing.js';
import { signVoucher } from './vouchers.js';

// Random sequences of stakes, unbondings, slashes, epoch roots with honest and greedy claims, deposits and
// vouchers against the contracts, checked after every run: the supply never changes, every token is
// somewhere, each account takes exactly its leaf once per epoch, and the Vault pays out no more than it got.

type Env = Awaited<ReturnType<typeof deployedChain>>;
let env: Env;
let clients: ChainClient[];
const USERS = [1, 2, 3, 4];
const node = (n: number) => keccak256(toHex(`node-${n}`));
const addr = (i: number) => env.accounts[i]?.address as Address;

beforeAll(async () => {
  env = await deployedChain();
  clients = env.accounts.map((_, i) => env.clientOf(i));
  for (const u of USERS) {
    await env.admin.write('token', 'transfer', [addr(u), omnit(1000)]);
    await clients[u]?.write('token', 'approve', [env.deployment.staking, maxUint256]);
    await clients[u]?.write('token', 'approve', [env.deployment.vault, maxUint256]);
  }
}, 120_000);
afterAll(() => env?.close());

const user = fc.constantFrom(...USERS);
const small = fc.integer({ min: 0, max: 60 }).map((n) => omnit(n));
const op = fc.oneof(
  fc.record({ kind: fc.constant('stake' as const), user, node: fc.nat(3), amount: small }),
  fc.record({ kind: fc.constant('unstake' as const), user, node: fc.nat(3), amount: small }),
  fc.record({ kind: fc.constant('withdraw' as const), user, node: fc.nat(3) }),
  fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 7200 }) }),
  fc.record({ kind: fc.constant('slash' as const), node: fc.nat(3), amount: small, router: fc.boolean() }),
  fc.record({
    kind: fc.constant('epoch' as const),
    lines: fc.array(fc.record({ user, amount: small }), { maxLength: 4 }),
    claims: fc.array(fc.record({ user, greedy: fc.boolean() }), { maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('deposit' as const), user, amount: small }),
  fc.record({ kind: fc.constant('voucher' as const), user, amount: small, nonce: fc.nat(3) }),
);

it('keeps supply, claims and the vault within their bounds over random operations', async () => {
  const supply = await env.admin.read<bigint>('token', 'totalSupply');
  const holders = [
    ...env.accounts.map((a) => a.address),
    ...(['staking', 'rewards', 'vault'] as const).map((c) => env.deployment[c]),
  ];
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
      const snapshot = await env.snapshot();
      try {
        let epoch = 100;
        let slashes = 0;
        const paid = new Map<string, bigint>();
        for (const o of ops) {
          if (o.kind === 'stake')
            await clients[o.user]?.write('staking', 'stake', [node(o.node), o.amount]).catch(expectNamed);
          else if (o.kind === 'unstake')
            await clients[o.user]?.write('staking', 'unstake', [node(o.node), o.amount]).catch(expectNamed);
          else if (o.kind === 'withdraw')
            await clients[o.user]?.write('staking', 'withdraw', [node(o.node)]).catch(expectNamed);
          else if (o.kind === 'advance') await env.advance(o.seconds);
          else if (o.kind === 'slash') {
            const by = o.router ? env.admin : (clients[5] as ChainClient);
            const error = await by
              // Each slash names its own evidence (NodeStaking refuses an evidence hash twice).
              .write('staking', 'slash', [node(o.node), o.amount, node(1000 + slashes++)])
              .then(() => undefined, revertName);
            if (!o.router) expect(error).toBe('AccessControlUnauthorizedAccount');
          } else if (o.kind === 'epoch') {
            epoch++;
            const tree = buildRewardTree(
              epoch,
              o.lines.map((l) => ({ account: addr(l.user), amount: l.amount })),
            );
            if (tree.leaves.length > 0) await env.admin.postRoot(epoch, tree.root, tree.root, tree.total);
            for (const c of o.claims) {
              const account = addr(c.user);
              const p = tree.proof(account);
              const amount = (p?.leaf.amount ?? 0n) + (c.greedy ? 1n : 0n);
              const before = await env.admin.balanceOf(account);
              const error = await (clients[c.user] as ChainClient)
                .claim(epoch, p?.leaf.index ?? 0, account, amount, p?.proof ?? [])
                .then(() => undefined, revertName);
              const key = `${epoch}:${account}`;
              if (error === undefined) {
                // A claim that went through paid exactly the leaf, and only the first time.
                expect(c.greedy).toBe(false);
                expect(paid.has(key)).toBe(false);
                expect((await env.admin.balanceOf(account)) - before).toBe(p?.leaf.amount);
                paid.set(key, amount);
              } else {
                const expected =
                  tree.leaves.length === 0
                    ? 'UnknownEpoch'
                    : paid.has(key) && !c.greedy
                      ? 'AlreadyClaimed'
                      : 'InvalidProof';
                expect(error).toBe(expected);
              }
            }
          } else if (o.kind === 'deposit') {
            const error = await clients[o.user]
              ?.write('vault', 'deposit', [o.amount, addr(o.user)])
              .then(() => undefined, revertName);
            if (o.amount < omnit(1)) expect(error).toBe('DepositBelowMinimum');
          } else {
            const voucher = {
              account: addr(o.user),
              amount: o.amount,
              nonce: BigInt(o.nonce),
              deadline: 2n ** 40n,
            };
            const signature = await signVoucher({
              privateKey: env.accounts[0]?.privateKey as `0x${string}`,
              chainId: env.deployment.chainId,
              vault: env.deployment.vault,
              voucher,
            });
            await clients[o.user]
              ?.write('vault', 'withdraw', [
                voucher.account,
                voucher.amount,
                voucher.nonce,
                voucher.deadline,
                signature,
              ])
              .catch(expectNamed);
          }
        }
        expect(await env.admin.read<bigint>('token', 'totalSupply')).toBe(supply);
        let sum = 0n;
        for (const h of holders) sum += await env.admin.balanceOf(h);
        expect(sum).toBe(supply);
        const [deposited, funded, withdrawn] = await Promise.all(
          ['deposited', 'funded', 'withdrawn'].map((f) => env.admin.read<bigint>('vault', f)),
        );
        expect(withdrawn).toBeLessThanOrEqual((deposited as bigint) + (funded as bigint));
        expect(await env.admin.balanceOf(env.deployment.vault)).toBe(
          (deposited as bigint) + (funded as bigint) - (withdrawn as bigint),
        );
      } finally {
        await env.revert(snapshot);
      }
    }),
    { numRuns: 25 },
  );
}, 600_000);

/** A refused operation must be refused by the contract with a named error, never an unexplained failure. */
function expectNamed(error: unknown) {
  expect(revertName(error)).toMatch(/^[A-Z]\w+$/);
}
