import { type Abi, BaseError, decodeErrorResult, type Hex } from 'viem';
import { EpochRewards, NodeStaking, OmniToken, Vault } from './artifacts/index.js';

export type RetryOptions = { attempts?: number; baseMs?: number; maxMs?: number; signal?: AbortSignal };

// Every custom error of the network's contracts (OpenZeppelin's included), to name any revert.
const ALL_ERRORS = [...OmniToken.abi, ...NodeStaking.abi, ...EpochRewards.abi, ...Vault.abi].filter(
  (item) => item.type === 'error',
) as Abi;

/** A transaction or call the chain refused, with the contract's custom error decoded. */
export class ChainRevertError extends Error {
  readonly errorName: string;
  readonly args: readonly unknown[];

  constructor(errorName: string, args: readonly unknown[], cause: unknown) {
    super(`the chain refused it: ${errorName}(${args.map(String).join(', ')})`, { cause });
    this.name = 'ChainRevertError';
    this.errorName = errorName;
    this.args = args;
  }
}

/**
 * The revert data inside an RPC error. viem decodes reverts only for JSON-RPC code 3 (or -32603); ganache
 * answers -32000 with the data beside it, so the data is looked up here whatever the code.
 */
function revertData(error: unknown): Hex | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 10; depth++) {
    const data = (e as { data?: unknown }).data;
    if (typeof data === 'string' && /^0x[0-9a-fA-F]{8,}$/.test(data)) return data as Hex;
    if (data && typeof data === 'object' && typeof (data as { data?: unknown }).data === 'string')
      return (data as { data: Hex }).data;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns an RPC error that carries revert data into a ChainRevertError; other errors come back as they were. */
export function asRevert(error: unknown): unknown {
  if (error instanceof ChainRevertError) return error;
  const data = revertData(error);
  if (!data) return error;
  try {
    const decoded = decodeErrorResult({ abi: ALL_ERRORS, data });
    return new ChainRevertError(decoded.errorName, decoded.args ?? [], error);
  } catch {
    return new ChainRevertError(`unknown error ${data.slice(0, 10)}`, [], error);
  }
}

/** Whether an error is the chain saying no (a revert): retrying cannot change that answer. */
export function isRevert(error: unknown): boolean {
  if (asRevert(error) instanceof ChainRevertError) return true;
  return error instanceof BaseError && /revert/i.test(error.details ?? '');
}

/** The custom error's name in a revert (`AlreadyClaimed`, `InvalidProof`…), or undefined. */
export function revertName(error: unknown): string | undefined {
  const e = asRevert(error);
  return e instanceof ChainRevertError ? e.errorName : undefined;
}

/**
 * Runs `fn` until it succeeds, waiting baseMs, 2×, 4×… (capped at maxMs) between tries while the RPC is
 * unreachable or fails; a revert is final and thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  let delay = options.baseMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (isRevert(error) || attempt >= attempts || options.signal?.aborted) throw asRevert(error);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, options.maxMs ?? 5_000);
    }
  }
}
