import { InvalidParameterError } from '../protocol/index.js';

/** Token amounts have 18 decimals, like an ERC-20: 1 token is 10^18 units. */
export const DECIMALS = 18;
/** One whole token in the smallest unit. */
export const ONE_TOKEN = 10n ** BigInt(DECIMALS);
/** Ratios (fees, shares, Power, Consistency, eta) are integers in parts per million. */
export const PPM = 1_000_000n;

/** A token amount or ratio the caller wrote is not one; `value` is what they wrote. */
export class InvalidAmountError extends InvalidParameterError {
  // `name` stays 'InvalidParameterError' (its base fixes it), so the router answers it as one: 400 with `param`.
  constructor(
    param: string,
    readonly value: string,
    reason: string,
  ) {
    super(param, `${param} '${value}' is not a valid amount: ${reason}`);
  }
}

const DECIMAL = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/;

function parseDecimal(text: string, decimals: number, param: string, what: string): bigint {
  const trimmed = text.trim();
  const match = DECIMAL.exec(trimmed);
  if (!match) {
    const hint = trimmed.startsWith('-') ? 'it must not be negative' : `write ${what} like 1.5 or 100`;
    throw new InvalidAmountError(param, text, hint);
  }
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? match[3] ?? '';
  if (fraction.length > decimals) {
    throw new InvalidAmountError(param, text, `it has more than ${decimals} decimals`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** Parses whole tokens with up to 18 decimals ('1.5') into the smallest unit; never goes through a float. */
export function parseAmount(text: string, param = 'amount'): bigint {
  return parseDecimal(text, DECIMALS, param, 'an amount of tokens');
}

/**
 * Reads an amount from a JSON body: a string of whole tokens ('1.5'). A JSON number is refused, naming the
 * field: it reached the router as a double, which cannot hold every amount (1.0000000000000000001 reads as 1),
 * so the router cannot know that it would book what the client wrote.
 */
export function parseJsonAmount(value: unknown, param = 'amount'): bigint {
  if (typeof value === 'string') return parseAmount(value, param);
  if (typeof value === 'number')
    throw new InvalidAmountError(
      param,
      String(value),
      `write it as a string, like "${value}": a JSON number is read as a double, which cannot hold every amount exactly`,
    );
  throw new InvalidParameterError(
    param,
    `'${param}' is an amount of tokens, written as a string like "1.5".`,
  );
}

/** Formats the smallest unit as whole tokens with the decimals it needs: 1500000000000000000n -> '1.5'. */
export function formatAmount(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const whole = abs / ONE_TOKEN;
  const fraction = (abs % ONE_TOKEN).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/** Parses a ratio ('0.05', 5e-2 is refused) into parts per million; `max` bounds it (1 for shares). */
export function parsePpm(text: string | number, param = 'ratio', max = 1): bigint {
  const written = typeof text === 'number' ? String(text) : text;
  const ppm = parseDecimal(written, 6, param, 'a ratio');
  if (ppm > BigInt(max) * PPM) throw new InvalidAmountError(param, written, `it must be at most ${max}`);
  return ppm;
}

/** Formats parts per million as a decimal ratio: 1_250_000n -> '1.25'. */
export function formatPpm(ppm: bigint): string {
  const whole = ppm / PPM;
  const fraction = (ppm % PPM).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** Checks that a bigint is a usable amount (not negative; positive unless `allowZero`). */
export function checkAmount(value: bigint, param = 'amount', allowZero = false): bigint {
  if (typeof value !== 'bigint') throw new InvalidAmountError(param, String(value), 'it must be a bigint');
  if (value < 0n || (!allowZero && value === 0n)) {
    throw new InvalidAmountError(
      param,
      formatAmount(value),
      allowZero ? 'it is negative' : 'it must be positive',
    );
  }
  return value;
}

/** The smaller of two bigints. */
export const minAmount = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The larger of two bigints. */
export const maxAmount = (a: bigint, b: bigint): bigint => (a > b ? a : b);
