import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import type { NodeListView } from '../../src/protocol/index.js';
import { OmniClient } from '../../src/sdk/index.js';
import { type Browser, installWallet, openBrowser } from './browser.js';
import { type CliProcess, runCli, type Workspace, waitForNodes, workspace } from './harness.js';

// The dashboard in real headless chromium against `otensor-cli up`: a router and two nodes on the tiny model,
// with prices on and the printed key's account funded, and a third node that holds another model only.
// Screenshots go to $OTENSOR_SCREENSHOTS (or a tmp folder).
let ws: Workspace;
let up: CliProcess;
let router: string;
let browser: Browser;
let dashboard: string;
let apiKey: string;
let walletAddress: string;
/** The task the playground ran, as its receipt names it. */
let taskId: string;

beforeAll(async () => {
  ws = await workspace('web');
  up = ws.track(runCli(['up', '--nodes', '2', '--port', '0', '--data', join(ws.dir, 'up')]));
  [, router = ''] = await up.line(/router: (http:\/\/\S+)/, 120_000);
  [, apiKey = ''] = await up.line(/api key: (\S+)/, 120_000);
  [, dashboard = ''] = await up.line(/dashboard: (http:\/\/\S+)/, 120_000);
  expect(dashboard).toBe(`${router}/`);
  const other = join(ws.dir, 'other.gguf');
  await writeTinyModel(other, { seed: 2 });
  ws.track(runCli(['node', 'start', '--router', router, '--model', other, '--data', join(ws.dir, 'other')]));
  await waitForNodes(router, 3, 120_000);
  browser = await openBrowser();
  walletAddress = await installWallet(browser.context, generatePrivateKey());
}, 180_000);

afterAll(async () => {
  await browser?.close();
  up?.child.kill('SIGINT');
  await up?.exited;
  await ws?.cleanup();
});

it('lists the connected nodes on the overview, and its chart gains points as tasks run', async () => {
  const { page } = browser;
  await page.goto(dashboard);
  await expect.poll(() => page.locator('tr[data-node]').count(), { timeout: 30_000 }).toBe(3);
  expect(await page.getByTestId('overview').textContent()).toMatch(/Nodes online\s*3/);
  const chart = page.locator('figure', { hasText: 'Throughput' }).locator('[data-points]');
  const before = Number(await chart.getAttribute('data-points'));
  const client = new OmniClient({ baseUrl: router, apiKey });
  for (let i = 0; i < 3; i++)
    await client.chat({ model: 'tiny', messages: [{ role: 'user', content: `task ${i}` }], max_tokens: 16 });
  await expect
    .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 })
    .toBeGreaterThan(before);
  // The work shows in the live figures, not only as time passing.
  await expect
    .poll(
      async () =>
        Number(await page.locator('.stat', { hasText: 'Tasks / min' }).locator('strong').textContent()),
      {
        timeout: 30_000,
      },
    )
    .toBeGreaterThan(0);
  await browser.shot('overview');
});

it('shows a node passed over for lacking the model that reason, with what to do', async () => {
  const { page } = browser;
  const nodes = (await (await fetch(`${router}/api/nodes`)).json()) as NodeListView;
  // The node whose models no other node holds: the one started with the other model.
  const lacking = nodes.data.find(
    (n) => nodes.data.filter((o) => o.models.join() === n.models.join()).length === 1,
  );
  expect(lacking).toBeDefined();
  await page.locator(`tr[data-node="${lacking?.id}"] a`).click();
  const reason = page.locator('li[data-reason=model_not_held]');
  await reason.waitFor({ timeout: 30_000 });
  expect(await reason.textContent()).toMatch(/Model not held.*does not hold it.*What to do: Serve the model/);
  await browser.shot('node');
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
  await page.locator('select[name=model]').selectOption('tiny');
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

it('ranks the nodes that did the work on the leaderboard', async () => {
  const { page } = browser;
  await page.goto(`${dashboard}#/leaderboards`);
  await page.locator('tbody tr').first().waitFor();
  expect(await page.locator('tbody tr').first().textContent()).toMatch(/^1\s*0x/);
  await browser.shot('leaderboards');
});

it('fits a phone screen, in the dark theme too', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(dashboard);
  await page.getByRole('button', { name: 'Dark' }).click();
  await expect.poll(() => page.locator('tr[data-node]').count()).toBe(3);
  expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
  // Nothing but the node table (which scrolls in its own box) is wider than the screen.
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  await browser.shot('overview-phone-dark');
});

it('has logged no console error on any page', () => {
  expect(browser.errors).toEqual([]);
});
