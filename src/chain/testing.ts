import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { custom, type Hex, parseUnits } from 'viem';
import type { LedgerFixture } from '../ledger/testing.js';
import { ChainClient } from './client.js';
import {
  type Deployment,
  type DeploySettings,
  deployContracts,
  type GenesisAllocation,
  writeDeployment,
} from './deploy.js';
import { type DevAccount, startInProcessChain } from './dev-chain.js';

/** Whole OMNIT to the smallest unit. */
export const omnit = (n: number | string) => parseUnits(String(n), 18);

/** A fresh in-process chain with the contracts deployed by account 0 (also the router), for tests and benches. */
export async function deployedChain(
  p: { genesis?: GenesisAllocation[]; settings?: Partial<DeploySettings> } = {},
) {
  const chain = await startInProcessChain({ accounts: 10 });
  // No transport retries: viem would retry the eth_fillTransaction ganache lacks, with backoff, before every send.
  const transport = custom(chain.provider, { retryCount: 0 });
  const admin = chain.accounts[0] as DevAccount;
  const deployment: Deployment = await deployContracts({
    rpc: 'http://in-process',
    privateKey: admin.privateKey,
    transport,
    genesis: p.genesis ?? [
      { account: 'rewards', amount: '1000000' },
      { account: 'treasury', amount: '9000000' },
    ],
    settings: { unbondingSeconds: 3600, challengeSeconds: 0, minDeposit: '1', ...p.settings },
  });
  const clientOf = (i: number) =>
    new ChainClient({ deployment, privateKey: (chain.accounts[i] as DevAccount).privateKey, transport });
  const rpc = (method: string, params: unknown[] = []) => chain.provider.request({ method, params } as never);
  return {
    chain,
    deployment,
    accounts: chain.accounts,
    admin: clientOf(0),
    clientOf,
    /** Moves the chain's clock forward and mines a block. */
    async advance(seconds: number) {
      await rpc('evm_increaseTime', [seconds]);
      await rpc('evm_mine');
    },
    snapshot: () => rpc('evm_snapshot') as Promise<Hex>,
    revert: (id: Hex) => rpc('evm_revert', [id]),
    close: () => chain.close(),
  };
}

/** A free loopback port, so a chain can be stopped and started again where the router expects it. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs `p` while committing the fixture's ledger (it commits only on flush, and the link awaits its commit). */
export async function committing<T>(f: LedgerFixture, p: Promise<T>): Promise<T> {
  let done = false;
  const result = p.finally(() => {
    done = true;
  });
  while (!done) {
    f.ledger.flush();
    await new Promise((r) => setTimeout(r, 5));
  }
  return result;
}

/** The deployment and key files `router start --chain-*` takes, written into the fixture's folder. */
export function linkSettings(f: LedgerFixture, rpc: string, deployment: Deployment, routerKey: Hex) {
  const settings = {
    rpc,
    deploymentFile: join(f.dir, 'deployment.json'),
    keyFile: join(f.dir, 'router.key'),
  };
  writeDeployment(settings.deploymentFile, deployment);
  writeFileSync(settings.keyFile, routerKey);
  return settings;
}
