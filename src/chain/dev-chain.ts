import ganache from 'ganache';
import type { Address, EIP1193Provider, Hex } from 'viem';

/** A funded test account of the dev chain. */
export type DevAccount = { address: Address; privateKey: Hex };

export type DevChainOptions = {
  /** Port on 127.0.0.1 for JSON-RPC; 0 picks a free one. */
  port?: number;
  /** How many funded accounts (default 10). */
  accounts?: number;
  chainId?: number;
  /** A folder that keeps the chain's state across restarts (ganache's database); default: memory only. */
  dbPath?: string;
};

export type DevChain = {
  url: string;
  chainId: number;
  accounts: DevAccount[];
  close(): Promise<void>;
};

/** The dev chain's id: Hardhat's and Anvil's local one, which wallets already know. */
export const DEV_CHAIN_ID = 31337;

// ganache 7 implements hardforks up to shanghai, so the contracts are compiled for shanghai.
function ganacheOptions(options: DevChainOptions) {
  return {
    logging: { quiet: true },
    chain: { hardfork: 'shanghai' as const, chainId: options.chainId ?? DEV_CHAIN_ID },
    wallet: { totalAccounts: options.accounts ?? 10, deterministic: true, defaultBalance: 10_000 },
    ...(options.dbPath ? { database: { dbPath: options.dbPath } } : {}),
  };
}

function accountsOf(initial: Record<string, { secretKey: string }>): DevAccount[] {
  return Object.entries(initial).map(([address, a]) => ({
    address: address as Address,
    privateKey: a.secretKey as Hex,
  }));
}

/**
 * Starts an EVM JSON-RPC node in this process on loopback (ganache), with deterministic funded accounts (the
 * same keys every run). Its state lives in memory (a restart starts an empty chain) unless `dbPath` names a
 * folder, where it is kept and found again at the next start.
 */
export async function startDevChain(options: DevChainOptions = {}): Promise<DevChain> {
  const server = ganache.server(ganacheOptions(options));
  await server.listen(options.port ?? 0, '127.0.0.1');
  const address = server.address();
  const accounts = accountsOf(await server.provider.getInitialAccounts());
  return {
    url: `http://127.0.0.1:${address.port}`,
    chainId: options.chainId ?? DEV_CHAIN_ID,
    accounts,
    close: () => server.close(),
  };
}

/** An EVM in this process without a socket, for tests that talk to it through viem's `custom` transport. */
export async function startInProcessChain(options: DevChainOptions = {}): Promise<{
  provider: EIP1193Provider;
  chainId: number;
  accounts: DevAccount[];
  close(): Promise<void>;
}> {
  const provider = ganache.provider(ganacheOptions(options));
  const accounts = accountsOf(await provider.getInitialAccounts());
  return {
    provider: provider as unknown as EIP1193Provider,
    chainId: options.chainId ?? DEV_CHAIN_ID,
    accounts,
    close: () => provider.disconnect(),
  };
}
