import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Hex, hexToString } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/** Debian's chromium (`.ci/run` installs it when missing); OTENSOR_CHROMIUM names another. */
export const CHROMIUM = process.env.OTENSOR_CHROMIUM ?? '/usr/bin/chromium';

export type Browser = {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of every page, in order. */
  errors: string[];
  /** Saves a screenshot under the run's folder (printed once) and returns its path. */
  shot(name: string, page?: Page): Promise<string>;
  close(): Promise<void>;
};

/** A headless chromium with a fresh profile; it reaches nothing but loopback (no sync, updates or fonts). */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `The web tests drive Chromium at ${CHROMIUM}, which is missing: install it (Debian/Ubuntu: sudo apt-get install chromium; .ci/run does this) or set OTENSOR_CHROMIUM to a Chromium or Chrome binary.`,
    );
  const profile = mkdtempSync(join(tmpdir(), 'otensor-chromium-'));
  const shots = process.env.OTENSOR_SCREENSHOTS ?? join(tmpdir(), 'otensor-web-screenshots');
  mkdirSync(shots, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    errors,
    async shot(name, which = page) {
      const path = join(shots, `${name}.png`);
      await which.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Gives the page an EIP-1193 wallet (as a browser extension would) that signs with `privateKey` here in the
 * test: the page's own login code asks for the account and a personal_sign, as with a real wallet.
 */
export async function installWallet(context: BrowserContext, privateKey: Hex): Promise<string> {
  const account = privateKeyToAccount(privateKey);
  await context.exposeBinding('__testWallet', async (_source, method: string, params: unknown[]) => {
    if (method === 'eth_requestAccounts') return [account.address];
    if (method === 'personal_sign') {
      const [message, address] = params as [Hex, string];
      if (address.toLowerCase() !== account.address.toLowerCase()) throw new Error('unknown account');
      // The page sends the challenge as hex of its UTF-8 bytes, as wallets expect; the text is signed.
      return account.signMessage({ message: hexToString(message) });
    }
    throw new Error(`unsupported wallet method ${method}`);
  });
  await context.addInitScript(() => {
    const page = globalThis as unknown as {
      __testWallet(m: string, p: unknown[]): Promise<unknown>;
      ethereum: unknown;
    };
    page.ethereum = {
      request: ({ method, params = [] }: { method: string; params?: unknown[] }) =>
        page.__testWallet(method, params),
    };
  });
  return account.address.toLowerCase();
}
