import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Browser, installWallet, openBrowser } from './browser.js';
import { type CliProcess, runCli, type Workspace, workspace } from './harness.js';

// The dashboard in real headless chromium against `otensor-cli up`: a router and two nodes on the tiny model,
// with prices on and the printed key's account funded. Screenshots go to $OTENSOR_SCREENSHOTS (or a tmp folder).
let ws: Workspace;
let up: CliProcess;
let browser: Browser;
let dashboard: string;
let apiKey: string;
let walletAddress: string;
/** The task the playground ran, as its receipt names it. */
let taskId: string;

beforeAll(async () => {
  ws = await workspace('web');
  up = ws.track(runCli(['up', '--nodes', '2', '--port', '0', '--data', join(ws.dir, 'up')]));
  [, apiKey = ''] = await up.line(/api key: (\S+)/, 120_000);
  [, dashboard = ''] = await up.line(/dashboard: (http:\/\/\S+)/, 120_000);
  browser = await openBrowser();
  walletAddress = await installWallet(browser.context, generatePrivateKey());
}, 180_000);

afterAll(async () => {
  await browser?.close();
  up?.child.kill('SIGINT');
  await up?.exited;
  await ws?.cleanup();
});

it('signs in with a wallet signature (EIP-191 challenge), shows that account, and signs out', async () => {
  const { page } = browser;
  await page.goto(`${dashboard}#/account`);
  await page.getByRole('button', { name: 'Sign in with wallet' }).click();
  await page.getByText(walletAddress).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Use this key' }).waitFor();
});

it('streams an answer in the playground and shows its verdict, node and cost', async () => {
  const { page } = browser;
  await page.locator('input[name=api_key]').fill(apiKey);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.goto(`${dashboard}#/playground`);
  await page.locator('select[name=model] option[value=tiny]').waitFor({ state: 'attached' });
  await page.locator('select[name=validation]').selectOption('likelihood');
  await page.locator('textarea[name=prompt]').fill('Say something about graphics cards.');
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/chat/completions'));
  await page.getByRole('button', { name: 'Send' }).click();
  const response = await answered;
  expect(response.headers()['content-type']).toContain('text/event-stream');
  expect(response.request().postDataJSON()).toMatchObject({ stream: true, validation: 'likelihood' });
  const receipt = page.getByTestId('receipt');
  await receipt.waitFor();
  await expect(receipt.textContent()).resolves.toMatch(/Verdict\s*pass likelihood \(asked: likelihood\)/);
  await expect(receipt.textContent()).resolves.toMatch(/Cost\s*0\.\d+ tokens/);
  expect(await page.locator('.message.assistant p').textContent()).not.toMatch(/^(…)?$/);
  expect(await receipt.locator('a[href^="#/node/0x"]').count()).toBeGreaterThanOrEqual(2);
  taskId = (await receipt.locator('dd.mono').textContent()) ?? '';
  expect(taskId).toMatch(/^task_/);
  await browser.shot('playground');
});

it("shows the request's payment on the account page", async () => {
  const { page } = browser;
  await page.goto(`${dashboard}#/account`);
  await page.getByTestId('account').waitFor();
  // The answer's most cost was held from the account (escrow), and what it did not cost came back.
  const held = page.locator('tr[data-reason=escrow]', { hasText: taskId });
  await held.waitFor();
  expect(await held.locator('td.out').textContent()).toMatch(/^-0\.\d+$/);
  await page.locator('tr[data-reason=refund]', { hasText: taskId }).waitFor();
  expect(Number(await page.locator('.stat strong').first().textContent())).toBeLessThan(1000);
  await browser.shot('account');
});

it('has logged no console error on any page', () => {
  expect(browser.errors).toEqual([]);
});
