import { custom, type Hex, parseUnits } from 'viem';
import { ChainClient } from './client.js';
import { type Deployment, type DeploySettings, deployContracts, type GenesisAllocation } from './deploy.js';
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
