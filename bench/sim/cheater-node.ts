/**
 * A CHEATING compute node, for the verification tests and the adversarial benchmark only: a real node
 * (real engine, real model, real signatures) whose outputs are rewritten before it signs them, through the
 * node's fault-injection hook. Usage: node --import tsx bench/sim/cheater-node.ts '<json>' with
 * { router, model, data, wallet?, cheat, swapModel?, roles?, shared?, record?, dormant? }. Cheats:
 * - random: the text replaced by random characters of the same length;
 * - truncate: the text cut in half, claimed as a natural stop;
 * - replay: every answer is one it computed for another prompt (its first; that one gets reversed text);
 * - swap: answers come from another model file (`swapModel`) while it claims the registered one;
 * - reseed: answers with the registered model but another seed than the router set (a node that ignores the
 *   seed, or serves a cached sample): a plausible sample that likelihood cannot tell from the right one;
 * - collude: as swap, and it writes the hash of every prompt and text it sends to the file `shared`, which
 *   its partners (same operator, same payout wallet) read;
 * - collude-validator: a validator (give `roles: ['validator']`) that scores honestly, except outputs found
 *   in `shared`: those it scores under `swapModel`, the model its partners answered with, so they pass;
 * - lying-validator: a validator (give `roles: ['validator']`) that scores every output under `swapModel`,
 *   so honest work fails its checks (a validator trying to get honest nodes slashed);
 * - lazy-validator: a validator whose scores say every token is the model's top choice (all-max logits)
 *   and that the model stops after the output, whatever it was given: it skips the judging its pay is for;
 * - other-text-validator: a validator that scores the first output it is given and sends those scores for
 *   every later one (scores of other text);
 * - hold: honest, but each chat or completion result waits until the process gets SIGUSR2 (so a test can
 *   change the network while a result is on its way), logging `holding <task id>` first;
 * - sleeper: honest until the process gets SIGUSR2, then random text (a node that builds trust, then cheats);
 * - inflate: honest text, but it claims 1,000,000 prompt tokens, and 1,000,000 completion tokens when it
 *   stopped by itself (an answer cut at max_tokens claims max_tokens, the count a likelihood check expects);
 * - stream-lie: streams its first 12 characters honestly, then a snowman (U+2603) for every later one, and
 *   sends the text it streamed as its result (a node lying in its stream, consistently);
 * - honest: no cheating (a control).
 * With `record`, every chat or completion result it sends is logged there as a JSON line (task, attempt,
 * whether the text differs from what its own engine computed honestly), and so is every score it bends.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createLlamaEngine, type LoadedModel } from '../../src/engine/index.js';
import { startNode } from '../../src/node/index.js';
import type { TaskOutput } from '../../src/protocol/index.js';

export type CheatKind =
  | 'random'
  | 'truncate'
  | 'replay'
  | 'swap'
  | 'reseed'
  | 'collude'
  | 'collude-validator'
  | 'lying-validator'
  | 'lazy-validator'
  | 'other-text-validator'
  | 'hold'
  | 'sleeper'
  | 'inflate'
  | 'stream-lie'
  | 'honest';

export type CheaterConfig = {
  router: string;
  model: string;
  data: string;
  wallet?: string;
  cheat: CheatKind;
  swapModel?: string;
  roles?: ('worker' | 'validator')[];
  /** collude / collude-validator: the file the partners share hashes of their prompts and texts through. */
  shared?: string;
  /** A JSON-lines file of what it sent (see above). */
  record?: string;
  /** Load everything, then wait for SIGHUP before joining the network (so a benchmark can start it fast). */
  dormant?: boolean;
};

const config = JSON.parse(process.argv[2] ?? '{}') as CheaterConfig;
let swapped: LoadedModel | undefined;
if (
  config.cheat === 'swap' ||
  config.cheat === 'collude' ||
  config.cheat === 'collude-validator' ||
  config.cheat === 'lying-validator' ||
  config.cheat === 'reseed'
) {
  const engine = await createLlamaEngine({ gpu: false });
  swapped = await engine.loadModel(config.swapModel ?? config.model, { threads: 1 });
}
let awake = false;
let release: (() => void)[] = [];
process.on('SIGUSR2', () => {
  awake = true;
  if (config.cheat === 'hold') {
    for (const go of release) go();
    release = [];
    return;
  }
  process.stdout.write('sleeper: cheating from now on\n');
});

const textHash = (text: string) => createHash('sha256').update(text).digest('hex');
const record = (line: Record<string, unknown>) => {
  if (config.record) appendFileSync(config.record, `${JSON.stringify({ ...line, at: Date.now() })}\n`);
};

type Task = { taskId: string; attempt: number; input: { kind: string } };

/** stream-lie: the text each attempt streamed, as sent. */
const streamed = new Map<string, string>();
const streamKey = (task: Task) => `${task.taskId}#${task.attempt}`;
const tamperText = (task: Task, text: string): string => {
  if (config.cheat !== 'stream-lie') return text;
  let sent = streamed.get(streamKey(task)) ?? '';
  for (const c of text) sent += sent.length >= 12 ? '\u2603' : c;
  const fresh = sent.slice((streamed.get(streamKey(task)) ?? '').length);
  streamed.set(streamKey(task), sent);
  return fresh;
};

const tamper = async (task: Task, output: TaskOutput): Promise<TaskOutput> => {
  const input = task.input as ScoreTask | Parameters<typeof generateWith>[1];
  if (input.kind === 'score') return bendScore(task, input, output);
  if (output.text === undefined || (input.kind !== 'chat' && input.kind !== 'completion')) return output;
  if (config.cheat === 'hold') {
    process.stdout.write(`holding ${task.taskId}\n`);
    await new Promise<void>((go) => release.push(go));
    return output;
  }
  const sent =
    config.cheat === 'stream-lie'
      ? { ...output, text: streamed.get(streamKey(task)) ?? output.text }
      : await rewrite(input, output);
  record({
    task: task.taskId,
    attempt: task.attempt,
    cheat: config.cheat,
    tampered: sent.text !== output.text,
    finish: sent.finishReason,
  });
  if (config.cheat === 'collude' && config.shared)
    appendFileSync(config.shared, `${textHash(JSON.stringify([promptOf(input), sent.text ?? '']))}\n`);
  return sent;
};

type ScoreTask = {
  kind: 'score';
  target: { prompt: string } | { messages: Message[] };
  output: string;
  stop: string[];
};

let firstScores: TaskOutput['scores'];

/** collude-validator: a partner's output is scored under the partner's model, so it passes. */
async function bendScore(task: Task, input: ScoreTask, output: TaskOutput): Promise<TaskOutput> {
  const honest = output.scores;
  if (config.cheat === 'lazy-validator' && honest) {
    const top = (d: { topLogits: number[] }) => Math.max(...d.topLogits, 0) + 10;
    const tokens = honest.tokens.map((t) => ({
      ...t,
      topTokens: [t.token],
      topLogits: [top(t)],
      logit: top(t),
      rank: 0,
    }));
    const end = {
      ...honest.end,
      eog: true,
      continuation: '',
      stop: 'full' as const,
      stopLogit: top(honest.end),
    };
    record({ task: task.taskId, attempt: task.attempt, cheat: config.cheat, lied: true });
    return { ...output, scores: { ...honest, tokens, end } };
  }
  if (config.cheat === 'other-text-validator' && honest) {
    firstScores ??= honest;
    record({ task: task.taskId, attempt: task.attempt, cheat: config.cheat, lied: firstScores !== honest });
    return { ...output, scores: firstScores };
  }
  if (config.cheat === 'lying-validator') {
    const scores = await (swapped as LoadedModel).score(input.target, input.output, { stop: input.stop });
    record({ task: task.taskId, attempt: task.attempt, cheat: config.cheat, lied: true });
    return { scores, promptTokens: scores.promptTokens, completionTokens: 0 };
  }
  if (config.cheat !== 'collude-validator' || !config.shared || !existsSync(config.shared)) return output;
  const partners = new Set(readFileSync(config.shared, 'utf8').split('\n'));
  if (!partners.has(textHash(JSON.stringify([input.target, input.output])))) return output;
  const scores = await (swapped as LoadedModel).score(input.target, input.output, { stop: input.stop });
  record({ task: task.taskId, attempt: task.attempt, cheat: config.cheat, colluded: true });
  return { scores, promptTokens: scores.promptTokens, completionTokens: 0 };
}

/** What a partner's output answered, as the score task that checks it names it. */
function promptOf(input: Parameters<typeof generateWith>[1]) {
  return input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt };
}

let first: TaskOutput | undefined;
async function rewrite(input: Parameters<typeof generateWith>[1], output: TaskOutput): Promise<TaskOutput> {
  if (output.text === undefined) return output;
  const cheat = config.cheat === 'sleeper' ? (awake ? 'random' : 'honest') : config.cheat;
  switch (cheat) {
    case 'random': {
      const text = Array.from(output.text, () =>
        String.fromCharCode(97 + Math.floor(Math.random() * 26)),
      ).join('');
      return { ...output, text };
    }
    case 'truncate': {
      const keep = Math.max(1, Math.floor(output.text.length / 2));
      return {
        ...output,
        text: output.text.slice(0, keep),
        completionTokens: Math.max(1, Math.floor(output.completionTokens / 2)),
        finishReason: 'stop',
      };
    }
    case 'replay':
      // Keeps its first honest answer and sends it for every prompt, the first one included (as garbage).
      if (!first) {
        first = output;
        return { ...output, text: output.text.split('').reverse().join('') };
      }
      return first;
    case 'swap':
    case 'collude':
      return generateWith(swapped as LoadedModel, input);
    case 'reseed':
      return generateWith(swapped as LoadedModel, {
        ...input,
        params: { ...input.params, seed: (input.params.seed ?? 0) + 1 },
      });
    case 'inflate':
      return {
        ...output,
        promptTokens: 1_000_000,
        completionTokens: output.finishReason === 'length' ? output.completionTokens : 1_000_000,
      };
    default:
      return output;
  }
}
type Message = { role: 'system' | 'user' | 'assistant'; content: string };

async function generateWith(
  model: LoadedModel,
  input:
    | { kind: 'chat'; messages: Message[]; params: Params }
    | { kind: 'completion'; prompt: string; params: Params },
): Promise<TaskOutput> {
  const { seed, ...rest } = input.params;
  const params = { ...rest, ...(seed === undefined ? {} : { seed }) };
  const result =
    input.kind === 'chat'
      ? await model.chat(input.messages, params, () => {})
      : await model.complete(input.prompt, params, () => {});
  return {
    text: result.text,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    finishReason: result.finishReason,
  };
}
type Params = { maxTokens: number; temperature: number; topP: number; seed?: number; stop: string[] };

if (config.dormant) {
  process.stdout.write('cheater dormant\n');
  // A signal listener does not keep the process alive; the timer does.
  const alive = setInterval(() => {}, 60_000);
  await new Promise((wake) => process.once('SIGHUP', wake));
  clearInterval(alive);
}
const node = await startNode(
  {
    routerUrl: config.router,
    models: [config.model],
    dataDir: config.data,
    threads: 1,
    ...(config.roles ? { roles: config.roles } : {}),
    ...(config.wallet ? { wallet: config.wallet } : {}),
  },
  {
    tamper: tamper as never,
    tamperText: tamperText as never,
    log: (line) => process.stderr.write(`${line}\n`),
  },
);
await node.connected;
process.stdout.write(`cheater ${config.cheat} connected: ${node.nodeId}\n`);
process.on('SIGTERM', () => node.stop().then(() => process.exit(0)));
