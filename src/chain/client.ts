import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { EpochRewards, NodeStaking, OmniToken, Vault } from './artifacts/index.js';
import { type ChainContracts, chainFor } from './deploy.js';
import { asRevert, type RetryOptions, withRetry } from './retry.js';

/** An epoch's root as EpochRewards holds it. */
export type OnChainRoot = { root: Hex; reportHash: Hex; postedAt: bigint; vetoed: boolean; total: bigint };

export type ChainClientInit = {
  deployment: ChainContracts;
  /** The key that signs transactions; without it the client only reads. */
  privateKey?: Hex;
  /** Overrides the deployment's RPC URL. */
  rpc?: string;
  transport?: Transport;
  /** How often a receipt is polled for (ms; default 100, a local chain mines at once). */
  pollingInterval?: number;
  /** Tries and backoff while the RPC fails (default 6 tries from 200 ms, doubling). */
  retry?: RetryOptions;
};

/**
 * The network's contracts through viem: reads, and writes signed by one key. Every call goes through
 * `withRetry` (backoff while the RPC is away); a write waits for its receipt and throws when it reverted.
 */
export class ChainClient {
  readonly deployment: ChainContracts;
  /** The RPC URL in use. */
  readonly rpc: string;
  readonly public: PublicClient<Transport, Chain>;
  readonly wallet: WalletClient<Transport, Chain, Account> | undefined;
  readonly #retry: RetryOptions;

  constructor(init: ChainClientInit) {
    this.deployment = init.deployment;
    const rpc = init.rpc ?? init.deployment.rpc;
    this.rpc = rpc;
    this.#retry = init.retry ?? {};
    const chain = chainFor(rpc, init.deployment.chainId);
    const transport = init.transport ?? http(rpc, { retryCount: 0 });
    const pollingInterval = init.pollingInterval ?? 100;
    this.public = createPublicClient({ chain, transport, pollingInterval });
    this.wallet = init.privateKey
      ? createWalletClient({
          account: privateKeyToAccount(init.privateKey),
          chain,
          transport,
          pollingInterval,
        })
      : undefined;
  }

  /** The signing account's address. */
  get address(): Address {
    return this.#signer().account.address;
  }

  #signer(): WalletClient<Transport, Chain, Account> {
    if (!this.wallet) throw new Error('This chain client has no key: pass a key file to send transactions.');
    return this.wallet;
  }

  /** Sends a contract call, waits for its receipt and returns it (viem throws the named custom error). */
  async write(
    contract: 'token' | 'staking' | 'rewards' | 'vault',
    functionName: string,
    args: readonly unknown[],
  ): Promise<TransactionReceipt> {
    const wallet = this.#signer();
    const abi = ABIS[contract];
    // Simulating first turns a revert into a ContractFunctionRevertedError naming the custom error.
    try {
      const { request } = await this.public.simulateContract({
        address: this.deployment[contract],
        abi,
        functionName,
        args,
        account: wallet.account,
      } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await this.public.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
      return receipt;
    } catch (error) {
      throw asRevert(error);
    }
  }

  /** Reads a view function. */
  read<T>(
    contract: 'token' | 'staking' | 'rewards' | 'vault',
    functionName: string,
    args: readonly unknown[] = [],
  ) {
    return withRetry(
      () =>
        this.public.readContract({
          address: this.deployment[contract],
          abi: ABIS[contract],
          functionName,
          args,
        } as never) as Promise<T>,
      this.#retry,
    );
  }

  /** An account's OMNIT balance on chain. */
  balanceOf(account: Address): Promise<bigint> {
    return this.read<bigint>('token', 'balanceOf', [account]);
  }

  /** Epoch `epoch`'s posted root (all zero when none was posted). */
  epochRoot(epoch: number): Promise<OnChainRoot> {
    return this.read<OnChainRoot>('rewards', 'epochRoot', [BigInt(epoch)]);
  }

  /** Seconds a posted root waits before it pays (EpochRewards' `challengeWindow`). */
  challengeWindow(): Promise<bigint> {
    return this.read<bigint>('rewards', 'challengeWindow');
  }

  /** The latest block's timestamp: the chain's clock, which decides when a root is final. */
  async chainTime(): Promise<bigint> {
    const block = await withRetry(() => this.public.getBlock(), this.#retry);
    return block.timestamp;
  }

  /** Whether leaf `index` of `epoch` (the proof's `index`) has been claimed. */
  isClaimed(epoch: number, index: number): Promise<boolean> {
    return this.read<boolean>('rewards', 'isClaimed', [BigInt(epoch), BigInt(index)]);
  }

  /**
   * Posts an epoch's root, once: when the RPC fails mid-way, the retry first looks whether the root already
   * landed, so a lost answer never sends a second transaction that would revert with EpochAlreadyPosted.
   */
  async postRoot(epoch: number, root: Hex, reportHash: Hex, total: bigint): Promise<Hex | 'already'> {
    return withRetry(async () => {
      const posted = await this.epochRoot(epoch);
      if (posted.postedAt !== 0n && !posted.vetoed) {
        if (posted.root !== root) throw new Error(`epoch ${epoch} has another root on chain: ${posted.root}`);
        return 'already';
      }
      const receipt = await this.write('rewards', 'postRoot', [BigInt(epoch), root, reportHash, total]);
      return receipt.transactionHash;
    }, this.#retry);
  }

  /** Claims leaf `index` of `epoch` (`amount` for `account`) with its proof. */
  claim(
    epoch: number,
    index: number,
    account: Address,
    amount: bigint,
    proof: Hex[],
  ): Promise<TransactionReceipt> {
    // Claiming one's own leaf names no account: 20 bytes less calldata.
    if (this.wallet && getAddress(account) === this.wallet.account.address)
      return this.write('rewards', 'claimOwn', [BigInt(epoch), BigInt(index), amount, proof]);
    return this.write('rewards', 'claim', [BigInt(epoch), BigInt(index), account, amount, proof]);
  }
}

const ABIS = {
  token: OmniToken.abi,
  staking: NodeStaking.abi,
  rewards: EpochRewards.abi,
  vault: Vault.abi,
} as const;
