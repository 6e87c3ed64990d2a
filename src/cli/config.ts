import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { routerBaseUrl } from '../protocol/index.js';

/** What `otensor-cli login` leaves in the user's config file. `expiresAt` is in milliseconds. */
export type SavedLogin = { router: string; token: string; account: string; expiresAt: number };

export type ConfigEnv = Record<string, string | undefined>;

/** The user's config folder: $OTENSOR_CONFIG_DIR, else $XDG_CONFIG_HOME/otensor, else ~/.config/otensor. */
export function configDir(env: ConfigEnv = process.env): string {
  if (env.OTENSOR_CONFIG_DIR) return env.OTENSOR_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'otensor');
}

export function configFile(env: ConfigEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

/** A router URL as saved and compared: without trailing slashes, ws(s) as http(s). */
export const normalizeRouter = (url: string) => routerBaseUrl(url);

/** The saved login, or undefined when there is none. Throws, naming the file, when it is unreadable. */
export function readLogin(env: ConfigEnv = process.env): SavedLogin | undefined {
  const file = configFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${file} (${(error as Error).message}).`);
  }
  let saved: Partial<SavedLogin>;
  try {
    saved = JSON.parse(text) as Partial<SavedLogin>;
  } catch {
    throw new Error(`${file} is not valid JSON: delete it and run \`otensor-cli login\` again.`);
  }
  if (
    typeof saved?.router !== 'string' ||
    typeof saved.token !== 'string' ||
    typeof saved.account !== 'string' ||
    typeof saved.expiresAt !== 'number'
  )
    return undefined;
  return { router: saved.router, token: saved.token, account: saved.account, expiresAt: saved.expiresAt };
}

/**
 * Saves the login, readable by the user alone (file 0600; a folder it creates is 0700). The file is written
 * beside and renamed over, so it never exists with wider permissions or half written. Returns its path.
 */
export function saveLogin(login: SavedLogin, env: ConfigEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(
    temporary,
    `${JSON.stringify({ ...login, router: normalizeRouter(login.router) }, null, 2)}\n`,
    {
      mode: 0o600,
      flag: 'w',
    },
  );
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return file;
}

/** Deletes the saved login; true when there was one. */
export function forgetLogin(env: ConfigEnv = process.env): boolean {
  const file = configFile(env);
  try {
    rmSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export type RouterAuthOptions = { router?: string | undefined; apiKey?: string | undefined };

/** The router to talk to and the Bearer credential for it; `account` is known for a saved login only. */
export type RouterAuth = { router: string; apiKey: string; account: string | null };

/**
 * Where a command that talks to a router goes and what it authenticates with: `--router` and `--api-key` (or
 * $OTENSOR_API_KEY) win; otherwise the saved login, whose token is only ever sent to the router it came from.
 */
export function routerAndAuth(
  options: RouterAuthOptions,
  env: ConfigEnv = process.env,
  now = Date.now(),
): RouterAuth {
  const saved = readLogin(env);
  const routerOption = options.router ?? saved?.router;
  if (!routerOption)
    throw new Error(
      'No router: pass --router URL, or log in once with `otensor-cli login --router URL` to make it the default.',
    );
  const router = normalizeRouter(routerOption);
  const apiKey = options.apiKey ?? env.OTENSOR_API_KEY;
  if (apiKey) return { router, apiKey, account: null };
  if (saved && normalizeRouter(saved.router) === router) {
    if (saved.expiresAt <= now)
      throw new Error(
        `Your login to ${router} expired at ${new Date(saved.expiresAt).toISOString()}: run \`otensor-cli login --router ${router}\` again, or pass --api-key KEY.`,
      );
    return { router, apiKey: saved.token, account: saved.account };
  }
  const elsewhere = saved ? ` (you are logged in to ${normalizeRouter(saved.router)} only)` : '';
  throw new Error(
    `Not logged in to ${router}${elsewhere}: run \`otensor-cli login --router ${router}\`, or pass --api-key KEY (or set OTENSOR_API_KEY).`,
  );
}
