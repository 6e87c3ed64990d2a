import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUnits } from 'viem';
import {
  ChainClient,
  type DevChain,
  deployContracts,
  startDevChain,
  writeDeployment,
} from '../chain/index.js';

const LOCAL_VAULT_BACKING = '2000000';

/**
 * `up --chain`: a dev chain in this process, the contracts deployed by its first account (also the router's
 * key), and the files `router start --chain-*` takes, written under the network's data folder.
 */
export async function startLocalChain(dataDir: string, progress: (line: string) => void) {
  const dev: DevChain = await startDevChain({ port: 0 });
  const admin = dev.accounts[0];
  if (!admin) throw new Error('the dev chain has no accounts');
  const deployment = await deployContracts({ rpc: dev.url, privateKey: admin.privateKey });
  const deploymentFile = join(dataDir, 'chain-deployment.json');
  const keyFile = join(dataDir, 'chain-router.key');
  writeDeployment(deploymentFile, deployment);
  writeFileSync(keyFile, `${admin.privateKey}\n`, { mode: 0o600 });
  // The local ledger's tokens (its reward pool, the printed key's funds) were never deposited: the treasury
  // backs them in the Vault, so a withdrawal from the ledger can be paid on chain.
  const treasury = new ChainClient({ deployment, privateKey: admin.privateKey });
  const backing = parseUnits(LOCAL_VAULT_BACKING, 18);
  await treasury.write('token', 'approve', [deployment.vault, backing]);
  await treasury.write('vault', 'fund', [backing]);
  progress(`local chain at ${dev.url}; contracts in ${deploymentFile}`);
  return {
    dev,
    link: { rpc: dev.url, deploymentFile, keyFile },
    /** Gives each node's address gas money, so a node key can send its own claim. */
    async fundNodes(nodeDirs: string[]) {
      for (const dir of nodeDirs) {
        const { address } = JSON.parse(readFileSync(join(dir, 'node-key.json'), 'utf8')) as {
          address: string;
        };
        await fetch(dev.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'evm_setAccountBalance',
            params: [address, `0x${(10n ** 20n).toString(16)}`],
          }),
        });
      }
    },
  };
}
