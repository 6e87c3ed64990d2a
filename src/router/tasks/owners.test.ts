import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

// One writer per piece of a task's state (docs/architecture.md, "The router's parts"): these rules keep it so
// as the code changes. They read the sources, as a linter would.
const src = join(import.meta.dirname, '../..');
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
const files = sources(src).map((path) => ({ path: relative(src, path), text: readFileSync(path, 'utf8') }));
const using = (pattern: RegExp) => files.filter((f) => pattern.test(f.text)).map((f) => f.path);

it('only verification writes a task’s check state', () => {
  expect(using(/\bwriteCheck\b/)).toEqual(['router/tasks/check-state.ts', 'router/tasks/verification.ts']);
});

it('only payments writes a task’s payment state', () => {
  expect(using(/\bwritePayment\b/)).toEqual(['router/tasks/payment-state.ts', 'router/tasks/payments.ts']);
});

it('only the task manager writes a task’s lifecycle (attempts, streamed text, placement, timing)', () => {
  const lifecycle = /\bhandle\.(delivered|attemptText|attempt|placement|plan|startedAt|resultAt)\s*=[^=]/;
  expect(using(lifecycle)).toEqual(['router/tasks/task-manager.ts']);
});

it('verification and payments depend on the task manager’s types only, never on it at run time', () => {
  for (const file of ['router/tasks/verification.ts', 'router/tasks/payments.ts']) {
    const text = files.find((f) => f.path === file)?.text ?? '';
    const runtime = /^import \{[^}]*\} from '\.\/task-manager\.js';/m.exec(text)?.[0] ?? '';
    expect(runtime.replace(/type \w+,?\s*/g, '')).not.toMatch(/\{\s*\w/);
  }
});
