import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExportView, ValidationResult } from '../sdk/index.js';
import { Validator } from '../sdk/index.js';
import { type RouterAuthOptions, routerAndAuth } from './config.js';
import { campaignClient } from './data-commands.js';
import { opinionLine } from './opinion.js';
import { answerKeys, describeQuestion, typedAnswer } from './review-question.js';

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const EXTENSION: Record<string, string> = { jpeg: 'jpg', 'utf-8': 'txt' };

/**
 * `review --task-id ID`: walks a person through a leased batch in the terminal. Text is shown; media by kind,
 * format and size, and `o` saves it to a temporary file and opens it. The automatic checks are shown beside each
 * item; the verdict is the person's. Answered items are sent at the end (or on `q`); skipped ones go back to
 * the pool when the lease ends.
 */
export async function reviewCommand(o: RouterAuthOptions & { taskId: string; size?: number }): Promise<void> {
  const { router, apiKey } = routerAndAuth(o);
  const validator = new Validator({ router, apiKey });
  const batch = await validator.getDataBatch(o.taskId, o.size === undefined ? {} : { size: o.size });
  if (batch.items.length === 0) {
    say(`nothing to review in ${o.taskId} for you now`);
    return;
  }
  const checked = await validator.validate(batch);
  const terminal = createInterface({ input: process.stdin });
  const lines = terminal[Symbol.asyncIterator]();
  const ask = async (prompt: string) => {
    process.stdout.write(prompt);
    const next = await lines.next();
    return next.done ? null : String(next.value).trim();
  };
  say(
    `batch ${batch.batch_id}: ${batch.items.length} items, lease until ${new Date(batch.lease_expires_at).toISOString()}`,
  );
  if (batch.instructions) say(`instructions: ${batch.instructions}`);
  const question = batch.question;
  const asksAccept = !question || question.type === 'accept';
  if (!asksAccept) say(`question: ${describeQuestion(question)}`);
  const answers: ValidationResult[] = [];
  items: for (const [n, item] of batch.items.entries()) {
    say('');
    say(`[${n + 1}/${batch.items.length}] ${item.kind} (${item.format}), ${item.size} bytes`);
    if (item.text !== null) say(item.text.length > 4000 ? `${item.text.slice(0, 4000)}…` : item.text);
    if (item.metadata !== null && item.metadata !== undefined)
      say(`metadata: ${JSON.stringify(item.metadata)}`);
    const opinion = opinionLine(item.machine_opinion);
    if (opinion) say(opinion);
    const failed = checked[n]?.checks?.filter((c) => !c.ok) ?? [];
    say(
      failed.length === 0
        ? 'checks: all passed'
        : `checks: ${failed.map((c) => `${c.check}: ${c.reason}`).join('; ')}`,
    );
    while (true) {
      const answer = await ask(`${answerKeys(question)} [r]eject [f]lag [s]kip [o]pen [q]uit > `);
      if (answer === null || answer === 'q') break items;
      const value = typedAnswer(question, answer);
      if (value) {
        answers.push({ taskId: o.taskId, id: item.id, verdict: 'accept', ...value });
        continue items;
      }
      if (answer === 's') continue items;
      if (answer === 'o') {
        const file = join(tmpdir(), `${item.sha256}.${EXTENSION[item.format] ?? item.format}`);
        const response = await validator.client.content(o.taskId, item.id);
        writeFileSync(file, Buffer.from(await response.arrayBuffer()));
        say(`saved to ${file}`);
        const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
        spawn(opener, [file], { stdio: 'ignore', detached: true })
          .on('error', () => undefined)
          .unref();
        continue;
      }
      if ((answer === 'a' && asksAccept) || answer === 'r' || answer === 'f') {
        const verdict = answer === 'a' ? 'accept' : 'reject';
        const reason = answer === 'a' ? '' : ((await ask('reason (optional) > ')) ?? '');
        answers.push({
          taskId: o.taskId,
          id: item.id,
          verdict: answer === 'f' ? 'reject' : verdict,
          ...(reason ? { reasons: [reason] } : {}),
          ...(answer === 'f' ? { flag: true } : {}),
        });
        continue items;
      }
      say(`answer ${asksAccept ? 'a' : answerKeys(question)}, r, f, s, o or q`);
    }
  }
  // Done reading: an open stdin would keep the process alive.
  terminal.close();
  process.stdin.destroy();
  if (answers.length === 0) {
    say('nothing sent');
    return;
  }
  const [result] = await validator.submitResults(answers);
  const recorded = result?.results.filter((r) => r.status === 'recorded').length ?? 0;
  say(`sent ${answers.length} verdicts: ${recorded} recorded`);
  for (const r of result?.results ?? []) if (r.status !== 'recorded') say(`  ${r.item_id}: ${r.status}`);
  if (result?.revoked)
    say('your reviewing rights in this campaign were revoked: your accuracy fell below its floor');
}

function card(m: ExportView): string {
  const bytes = m.items.reduce((sum, i) => sum + i.size, 0);
  const contributors = new Set(m.items.map((i) => i.contributor)).size;
  return [
    `# ${m.title}`,
    '',
    `A dataset collected by OmniTensor data campaign \`${m.campaign}\`.`,
    '',
    `- kind: ${m.kind}`,
    `- items: ${m.items.length} (${bytes} bytes), from ${contributors} contributors (pseudonymous ids)`,
    `- review: ${m.reviewers} reviewers an item, votes weighted by each reviewer's estimated accuracy (one-coin Dawid-Skene); items below ${m.threshold} agreement had a second round`,
    `- question reviewers answered: ${describeQuestion(m.question)}`,
    '- only accepted items are included; gold (known-answer) items are not',
    '',
    '## Instructions given to contributors and reviewers',
    '',
    m.instructions || '(none)',
    '',
    '## Files',
    '',
    '- `manifest.jsonl`: one line per item: sha256, file, kind, format, size, metadata, contributor, verdict (votes and rounds), agreement, and the final label or rating where the question asks one',
    '- `items/`: the items, named by sha256',
    '',
  ].join('\n');
}

/**
 * `dataset export --task-id ID --out DIR`: the accepted items, `manifest.jsonl` and a dataset card
 * (README.md). Everything is named and ordered by content, with no times, so the same export is byte-identical.
 */
export async function datasetExportCommand(
  o: RouterAuthOptions & { taskId: string; out: string },
): Promise<void> {
  const api = campaignClient(o);
  const manifest = await api.exportManifest(o.taskId);
  const folder = join(o.out, 'items');
  mkdirSync(folder, { recursive: true });
  const wanted = new Set(manifest.items.map((i) => i.file.slice('items/'.length)));
  for (const name of readdirSync(folder)) if (!wanted.has(name)) rmSync(join(folder, name), { force: true });
  for (const line of manifest.items) {
    const target = join(o.out, line.file);
    if (existsSync(target) && sha256(readFileSync(target)) === line.sha256) continue;
    const response = await api.content(o.taskId, line.sha256);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256(bytes) !== line.sha256) throw new Error(`item ${line.sha256} arrived with other bytes`);
    writeFileSync(`${target}.part`, bytes);
    renameSync(`${target}.part`, target);
  }
  writeFileSync(join(o.out, 'manifest.jsonl'), manifest.items.map((i) => `${JSON.stringify(i)}\n`).join(''));
  writeFileSync(join(o.out, 'README.md'), card(manifest));
  process.stderr.write(`exported ${manifest.items.length} items to ${o.out}\n`);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
