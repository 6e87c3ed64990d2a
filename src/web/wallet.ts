import type { LoginChallengeView, LoginView } from '../protocol/views.js';
import { api, type Credential } from './api.js';

/** An EIP-1193 wallet in the page (a browser extension); the dashboard holds no private key itself. */
type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

export function browserWallet(): Eip1193 | null {
  return (window as { ethereum?: Eip1193 }).ethereum ?? null;
}

const hex = (text: string) =>
  `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

/**
 * Wallet login, as `otensor-cli login` does it: ask the router for a challenge, have the wallet sign it
 * (EIP-191 personal_sign), and trade the signature for a login token that works as an API key.
 */
export async function walletLogin(wallet: Eip1193): Promise<Credential> {
  const accounts = (await wallet.request({ method: 'eth_requestAccounts' })) as string[];
  const address = accounts[0];
  if (!address) throw new Error('The wallet shared no account.');
  const { challenge } = await api<LoginChallengeView>('/api/auth/challenge', undefined, {
    body: { address },
  });
  const signature = (await wallet.request({
    method: 'personal_sign',
    params: [hex(challenge), address],
  })) as string;
  const login = await api<LoginView>('/api/auth/login', undefined, {
    body: { address, challenge, signature },
  });
  return { key: login.token, account: login.account, via: 'wallet' };
}
