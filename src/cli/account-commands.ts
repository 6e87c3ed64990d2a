import { readFileSync, statSync } from 'node:fs';
import { privateKeyToAccount } from 'viem/accounts';
import { OmniClient } from '../sdk/index.js';
import { forgetLogin, normalizeRouter, readLogin, saveLogin } from './config.js';
import { type AccountKeyOptions, createAccountKey } from './local-admin.js';

export { type AccountKeyOptions, createAccountKey };

// The first line of the router's login challenges (src/router/login-routes.ts). The CLI signs nothing else, so a
// router cannot make it sign an arbitrary text with the user's key.
const CHALLENGE_HEADER = 'OmniTensor login';

export type LoginOptions = { router?: string; key?: string; keyFile?: string };

/** The private key from --key, --key-file or $OTENSOR_PRIVATE_KEY; errors never quote the key. */
function privateKeyFrom(options: LoginOptions, env: NodeJS.ProcessEnv): `0x${string}` {
  const given = [options.key, options.keyFile].filter((o) => o !== undefined).length;
  if (given > 1) throw new Error('Pass the private key once: --key-file FILE or --key HEX, not both.');
  let text: string;
  let source: string;
  if (options.keyFile !== undefined) {
    source = `--key-file ${options.keyFile}`;
    try {
      if ((statSync(options.keyFile).mode & 0o077) !== 0)
        process.stderr.write(
          `warning: ${options.keyFile} can be read by other users of this machine; restrict it with \`chmod 600 ${options.keyFile}\`.\n`,
        );
      text = readFileSync(options.keyFile, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read the key file ${options.keyFile} (${(error as Error).message}).`);
    }
  } else if (options.key !== undefined) {
    source = '--key';
    process.stderr.write(
      'warning: a private key on the command line lands in your shell history and is visible to other users in the process list; prefer --key-file FILE or OTENSOR_PRIVATE_KEY.\n',
    );
    text = options.key;
  } else if (env.OTENSOR_PRIVATE_KEY) {
    source = 'OTENSOR_PRIVATE_KEY';
    text = env.OTENSOR_PRIVATE_KEY;
  } else {
    throw new Error(
      "Name the account's private key: --key-file FILE (best), the OTENSOR_PRIVATE_KEY environment variable, or --key HEX.",
    );
  }
  const hex = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error(
      `The private key from ${source} is not 32 bytes of hex (64 hexadecimal digits, with or without 0x).`,
    );
  return `0x${hex.toLowerCase()}`;
}

const reach = (router: string) => (error: unknown) => {
  if (error instanceof TypeError)
    throw new Error(`Cannot reach the router at ${router} (${error.message}). Check --router.`);
  throw error;
};

/**
 * `login --router URL`: signs the router's challenge (EIP-191) with the account's key and saves the login token
 * in the user's config file. The key stays in this process: only the address and the signature are sent.
 */
export async function loginCommand(
  options: LoginOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const routerOption = options.router ?? readLogin(env)?.router;
  if (!routerOption) throw new Error('Name the router to log in to with --router URL.');
  const router = normalizeRouter(routerOption);
  const wallet = privateKeyToAccount(privateKeyFrom(options, env));
  const address = wallet.address.toLowerCase();
  const client = new OmniClient({ baseUrl: router });
  const { challenge } = await client.loginChallenge(address).catch(reach(router));
  const lines = challenge.split('\n');
  if (lines[0] !== CHALLENGE_HEADER || !lines.includes(`Account: ${address}`))
    throw new Error(
      `${router} sent a login challenge this CLI does not recognise; nothing was signed. Check --router.`,
    );
  const signature = await wallet.signMessage({ message: challenge });
  const login = await client.login(address, challenge, signature).catch(reach(router));
  const expiresAt = login.expires_at * 1000;
  const file = saveLogin({ router, token: login.token, account: login.account, expiresAt }, env);
  process.stderr.write(
    `logged in to ${router} until ${new Date(expiresAt).toISOString()}; the token is in ${file}\n`,
  );
  process.stdout.write(`${login.account}\n`);
}

/** `logout`: ends the saved login token on its router (when reachable) and forgets it. */
export async function logoutCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const saved = readLogin(env);
  if (!saved) {
    forgetLogin(env);
    process.stdout.write('not logged in\n');
    return;
  }
  try {
    await new OmniClient({ baseUrl: saved.router, apiKey: saved.token }).logout(AbortSignal.timeout(5000));
  } catch (error) {
    process.stderr.write(
      `warning: could not end the token on ${saved.router} (${(error as Error).message}); it stops working at ${new Date(saved.expiresAt).toISOString()}.\n`,
    );
  }
  forgetLogin(env);
  process.stdout.write(`logged out of ${saved.router}\n`);
}

/** `keys create --data DIR [--account ADDRESS] [--operator]`: the key alone on stdout, the account on stderr. */
export async function keysCreateCommand(options: AccountKeyOptions & { data: string }): Promise<void> {
  const { key, account, walletFile } = createAccountKey(options.data, options);
  const role = options.operator ? ', role operator' : '';
  process.stderr.write(
    walletFile
      ? `account ${account}${role} (a new wallet; its private key is in ${walletFile})\n`
      : `account ${account}${role}\n`,
  );
  process.stdout.write(`${key}\n`);
}
