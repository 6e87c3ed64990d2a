/**
 * The dashboard's overview in a real headless Chromium (test/e2e/browser.ts): time from navigation start until
 * the page shows data, i.e. the "Nodes online" figure holds a number and the node table has a row. Each load is
 * a fresh page; the first is a cold load in a fresh profile, the rest revalidate the cached files (304s).
 */
import { openBrowser } from '../test/e2e/browser.js';

/**
 * The page's global the probe writes. The driver's checks are functions, not strings (the page's CSP forbids
 * eval), and are sent as source, so each names it itself.
 */
type Probed = { __overview?: Marks };

import { percentile, round } from './sim/harness.js';

/**
 * Runs in the page before its own scripts: a MutationObserver notes (in ms since navigation start, the page's
 * performance.now()) when the figures and the table first hold data, then the next animation frame after both,
 * which is when that data is painted. A string, as this project's bench code has no DOM types.
 */
const PROBE = `(() => {
  const marks = {};
  globalThis.__overview = marks;
  const check = () => {
    const now = performance.now();
    if (marks.figures === undefined)
      for (const stat of document.querySelectorAll('[data-testid=overview] .stat'))
        if (stat.querySelector('.label')?.textContent === 'Nodes online' &&
            /^\\d+$/.test(stat.querySelector('strong')?.textContent ?? '')) {
          marks.figures = now;
          marks.nodesOnline = Number(stat.querySelector('strong').textContent);
        }
    if (marks.table === undefined && document.querySelector('tr[data-node]')) {
      marks.table = now;
      marks.rows = document.querySelectorAll('tr[data-node]').length;
    }
    if (marks.figures !== undefined && marks.table !== undefined && marks.data === undefined) {
      marks.data = Math.max(marks.figures, marks.table);
      observer.disconnect();
      requestAnimationFrame(() => { marks.shown = performance.now(); });
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, characterData: true });
})();`;

type Marks = {
  figures: number;
  table: number;
  data: number;
  shown: number;
  nodesOnline: number;
  rows: number;
};

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
  };
};

/** Loads `url` (the dashboard's overview) `loads` times; `targetMs` is the bar for the slowest load. */
export async function timeOverviewPage(url: string, loads = 10, targetMs = 1000) {
  const browser = await openBrowser();
  await browser.context.addInitScript({ content: PROBE });
  const runs: (Marks & { wallMs: number; documentMs: number })[] = [];
  try {
    for (let i = 0; i < loads; i++) {
      const page = await browser.context.newPage();
      const start = performance.now();
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(
        () => (globalThis as unknown as Probed).__overview?.shown !== undefined,
        undefined,
        {
          timeout: 30_000,
          polling: 50,
        },
      );
      const wallMs = performance.now() - start;
      const marks = (await page.evaluate(() => (globalThis as unknown as Probed).__overview)) as Marks;
      const documentMs = await page.evaluate(
        () =>
          (
            performance as unknown as { getEntriesByType(t: string): { responseEnd: number }[] }
          ).getEntriesByType('navigation')[0]?.responseEnd ?? Number.NaN,
      );
      runs.push({ ...marks, wallMs, documentMs });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const shown = stats(runs.map((r) => r.shown));
  return {
    loads,
    // Navigation start to the next frame after both the figures and the node table hold data.
    firstData: shown,
    firstLoadMs: round(runs[0]?.shown ?? Number.NaN),
    figures: stats(runs.map((r) => r.figures)),
    nodeTable: stats(runs.map((r) => r.table)),
    htmlResponseEnd: stats(runs.map((r) => r.documentMs)),
    // Seen from the bench: goto until the page said so (adds the driver's round trips and 50 ms polling).
    wallFromDriver: stats(runs.map((r) => r.wallMs)),
    allMs: runs.map((r) => round(r.shown)),
    // What the page showed at that moment: "Nodes online" and the node table's first rows.
    nodesOnlineShown: [...new Set(runs.map((r) => r.nodesOnline))],
    tableRowsShown: [...new Set(runs.map((r) => r.rows))],
    met: shown.maxMs <= targetMs,
    consoleErrors: browser.errors.slice(0, 5),
  };
}
