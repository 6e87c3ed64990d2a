/**
 * A CHEATING compute node, for the verification tests and the adversarial benchmark only: a real node
 * (real engine, real model, real signatures) whose outputs are rewritten before it signs them, through the
 * node's fault-injection hook. Usage: node --import tsx bench/sim/cheater-node.ts '<json>' with
 * { router, model, data, wallet?, cheat, swapModel? }. Cheats:
 * - random: the text replaced by random characters of the same length;
 * - truncate: the text cut in half, claimed as a natural stop;
 * - replay: every answer is one it computed for another prompt (its first; that one gets reversed text);
 * - swap: answers come from another model file (`swapModel`) while it claims the registered one;
 * - honest: no cheating (a control).
 */
import { createLlamaEngine, type LoadedModel } from '../../src/engine/index.js';
import { startNode } from '../../src/node/index.js';
import type { TaskOutput } from '../../src/protocol/index.js';

type CheaterConfig = {
  router: string;
  model: string;
  data: string;
  wallet?: string;
  cheat: 'random' | 'truncate' | 'replay' | 'swap' | 'honest';
  swapModel?: string;
};

const config = JSON.parse(process.argv[2] ?? '{}') as CheaterConfig;
let swapped: LoadedModel | undefined;
if (config.cheat === 'swap') {
  const engine = await createLlamaEngine({ gpu: false });
  swapped = await engine.loadModel(config.swapModel as string, { threads: 1 });
}

let first: TaskOutput | undefined;
const tamper = async (task: { input: { kind: string } }, output: TaskOutput): Promise<TaskOutput> => {
  const input = task.input as Parameters<typeof generateWith>[1];
  if (output.text === undefined || (input.kind !== 'chat' && input.kind !== 'completion')) return output;
  switch (config.cheat) {
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
      return generateWith(swapped as LoadedModel, input);
    default:
      return output;
  }
};

async function generateWith(
  model: LoadedModel,
  input:
    | { kind: 'chat'; messages: { role: 'system' | 'user' | 'assistant'; content: string }[]; params: Params }
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

const node = await startNode(
  {
    routerUrl: config.router,
    models: [config.model],
    dataDir: config.data,
    threads: 1,
    ...(config.wallet ? { wallet: config.wallet } : {}),
  },
  { tamper: tamper as never, log: (line) => process.stderr.write(`${line}\n`) },
);
await node.connected;
process.stdout.write(`cheater ${config.cheat} connected: ${node.nodeId}\n`);
process.on('SIGTERM', () => node.stop().then(() => process.exit(0)));
