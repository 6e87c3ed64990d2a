import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAmount, parseAmount, TREASURY } from '../ledger/index.js';
import { OmniClient } from '../sdk/index.js';
import { startNetwork } from './up.js';

const PROMPTS = [
  'Tell me about decentralized compute.',
  'Write a haiku about graphics cards.',
  'What is a router in a compute network?',
  'Explain tokens per second.',
  'Why verify results from untrusted nodes?',
];

/** What `startNetwork` mints to the user of a local network. */
const LOCAL_FUND = '1000';

type NodeFigures = { tasks: number; tokens: number; busyMs: number };

/** `demo`: a local network in a temporary folder, a scripted workload, figures, and a clean stop. */
export async function demoCommand(options: { nodes: number; prompts: number }): Promise<void> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'otensor-demo-'));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`OmniTensor demo: a router and ${options.nodes} compute nodes on this machine, data in ${dataDir}`);
  const network = await startNetwork({
    nodes: options.nodes,
    port: 0,
    dataDir,
    logLevel: 'warn',
    fund: LOCAL_FUND,
    onProgress: (l) => say(`  ${l}`),
  });
  try {
    const client = new OmniClient({ baseUrl: network.url, apiKey: network.apiKey });
    say(`router: ${network.url}  model: ${network.modelName} (random weights: the text is not meaningful)`);
    say(`dashboard: ${network.url}/`);
    say(`sending ${options.prompts} prompts...`);
    const perNode = new Map<string, NodeFigures>();
    const checks = new Map<string, number>();
    let done = 0;
    let next = 0;
    const workStart = performance.now();
    const worker = async () => {
      while (next < options.prompts) {
        const i = next++;
        const t0 = performance.now();
        const answer = await client.chat({
          model: network.modelName,
          messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length] as string }],
          max_tokens: 64,
          temperature: 0.8,
          seed: i,
        });
        const ms = performance.now() - t0;
        const node = answer.nodeId ?? 'unknown';
        const validation = answer.omnitensor?.validation;
        const check = validation ? `${validation.verdict} (${validation.level})` : 'unknown';
        checks.set(check, (checks.get(check) ?? 0) + 1);
        const figures = perNode.get(node) ?? { tasks: 0, tokens: 0, busyMs: 0 };
        figures.tasks++;
        figures.tokens += answer.usage.completion_tokens;
        figures.busyMs += ms;
        perNode.set(node, figures);
        done++;
        say(
          `  [${String(done).padStart(2)}/${options.prompts}] ${node.slice(0, 10)}… ${answer.usage.completion_tokens} tokens in ${ms.toFixed(0)} ms`,
        );
      }
    };
    // One request in flight per node: each figure is the node's own speed, not time spent queueing.
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.nodes, options.prompts)) }, worker));
    const workMs = performance.now() - workStart;

    say('one streaming chat:');
    process.stdout.write('  > ');
    let streamed = 0;
    const stream = client.chatStream({
      model: network.modelName,
      messages: [{ role: 'user', content: 'Stream a story.' }],
      max_tokens: 48,
      seed: 7,
    });
    let step = await stream.next();
    while (!step.done) {
      streamed++;
      process.stdout.write(step.value.replace(/\s+/g, ' '));
      step = await stream.next();
    }
    say(`\n  (${streamed} chunks, ${step.value?.completion_tokens ?? '?'} tokens)`);

    say('per node:');
    let totalTokens = 0;
    for (const [node, f] of [...perNode].sort()) {
      totalTokens += f.tokens;
      say(
        `  ${node}  tasks ${String(f.tasks).padStart(3)}  tokens ${String(f.tokens).padStart(5)}  ${((f.tokens / f.busyMs) * 1000).toFixed(0)} tokens/s per request`,
      );
    }
    say(
      `summary: ${done}/${options.prompts} prompts answered by ${perNode.size} node(s), ${totalTokens} tokens in ${(workMs / 1000).toFixed(2)} s = ${((totalTokens / workMs) * 1000).toFixed(0)} tokens/s overall`,
    );
    // New nodes are checked on every answer (validation auto): another node reruns it and the hashes must match.
    say(
      `checks: ${[...checks].map(([check, n]) => `${n} ${check}`).join(', ')} (new nodes are checked every time; a failed answer would have been redone elsewhere)`,
    );

    // The economy of the run: what the user paid, what the nodes earned, and an epoch's rewards.
    const { ledger, epochs } = network.router.services;
    await ledger.sync();
    const spent = parseAmount(LOCAL_FUND) - ledger.balance(network.account);
    say(
      `ledger: you paid ${formatAmount(spent)} tokens for the answers and their checks; the treasury kept ${formatAmount(ledger.balance(TREASURY))} as its fee`,
    );
    const report = epochs.close();
    say(`epoch ${report.epoch} closed (${report.formula} formula); each node's payments and reward:`);
    for (const r of report.rewards)
      say(
        `  ${r.node}  tasks ${String(r.inputs.tasks).padStart(3)}  reward ${formatAmount(r.amount)}  balance ${formatAmount(ledger.balance(r.account))}`,
      );
    const verify = ledger.verify();
    say(`ledger verify: ${verify.ok ? 'ok' : verify.problems.join('; ')} (${verify.entries} entries)`);
  } finally {
    await network.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  say(`demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s; everything stopped.`);
}
