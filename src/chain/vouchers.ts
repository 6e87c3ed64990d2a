import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/** A withdrawal voucher: the router's promise that `account` may take `amount` out of the Vault, once. */
export type WithdrawalVoucher = { account: Address; amount: bigint; nonce: bigint; deadline: bigint };

/** Signs a voucher with EIP-712 for the Vault at `vault` on `chainId` (the key needs the Vault's SIGNER_ROLE). */
export function signVoucher(p: {
  privateKey: Hex;
  chainId: number;
  vault: Address;
  voucher: WithdrawalVoucher;
}): Promise<Hex> {
  return privateKeyToAccount(p.privateKey).signTypedData({
    domain: { name: 'OmniTensor Vault', version: '1', chainId: p.chainId, verifyingContract: p.vault },
    types: {
      Withdrawal: [
        { name: 'account', type: 'address' },
        { name: 'amount', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
      ],
    },
    primaryType: 'Withdrawal',
    message: p.voucher,
  });
}

/** A ledger withdrawal's voucher nonce: its id (`wd_` + 20 hex digits) as a number, so each pays once. */
export function withdrawalNonce(id: string): bigint {
  const hex = /^wd_([0-9a-f]{20})$/.exec(id)?.[1];
  if (!hex) throw new Error(`'${id}' is not a withdrawal id`);
  return BigInt(`0x${hex}`);
}
