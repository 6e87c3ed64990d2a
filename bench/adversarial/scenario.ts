/** The adversarial bench's scenario: which cheaters run, in which shifts, and the request mix sent. */
import { buildTinyVocab, mulberry32, TokenType } from '../../src/models/index.js';
import { sseData } from '../../src/sdk/sse.js';
import type { CheatKind } from '../sim/cheater-node.js';

/** A cheating unit: one or more processes run together in a shift. */
export type Unit = {
  name: string;
  members: { cheat: CheatKind; swap?: 'seed2' | 'q8' | 'seed3' }[];
  /** Counted apart from the kinds the issue lists. */
  extra?: boolean;
  /** Each member its own payout wallet (a Sybil pair), instead of the colluders' shared one. */
  ownWallets?: boolean;
};

export const UNITS: Unit[] = [
  { name: 'random', members: [{ cheat: 'random' }] },
  { name: 'other seed', members: [{ cheat: 'swap', swap: 'seed2' }] },
  { name: 'Q8_0 as F32', members: [{ cheat: 'swap', swap: 'q8' }] },
  { name: 'truncate', members: [{ cheat: 'truncate' }] },
  {
    name: 'colluding pair',
    members: [
      { cheat: 'collude', swap: 'seed3' },
      { cheat: 'collude', swap: 'seed3' },
    ],
  },
  {
    name: 'sybil pair (own wallets)',
    members: [
      { cheat: 'collude', swap: 'seed3' },
      { cheat: 'collude', swap: 'seed3' },
    ],
    extra: true,
    ownWallets: true,
  },
  { name: 'replay', members: [{ cheat: 'replay' }] },
];
/** The sleeper turns in the last shift; it takes one cheater place there. */
export const SLEEPER = 'sleeper (turns in the last shift)';

export type Shift = { units: Unit[]; sleeperTurns: boolean };

/** The units of a run: the Sybil pair only in Sybil mode. */
export function unitsFor(sybil: boolean): Unit[] {
  return UNITS.filter((u) => sybil || !u.ownWallets);
}

/** Names of the adversaries counted apart from the list (the sleeper, the Sybil pair). */
export const EXTRA_KINDS = new Set([SLEEPER, 'sleeper', ...UNITS.filter((u) => u.extra).map((u) => u.name)]);

/** Shifts: cheater units packed so that about `perShift` workers cheat at any time; the sleeper turns last. */
export function planShifts(units: readonly Unit[], perShift: number): Shift[] {
  const shifts: Shift[] = [];
  for (const unit of units) {
    const last = shifts[shifts.length - 1];
    const size = last?.units.reduce((n, u) => n + u.members.length, 0) ?? Number.POSITIVE_INFINITY;
    if (last && size + unit.members.length <= perShift) last.units.push(unit);
    else shifts.push({ units: [unit], sleeperTurns: false });
  }
  const lastShift = shifts[shifts.length - 1] as Shift;
  if (lastShift.units.reduce((n, u) => n + u.members.length, 0) + 1 <= perShift)
    lastShift.sleeperTurns = true;
  else shifts.push({ units: [], sleeperTurns: true });
  return shifts;
}

export type Mode = 'greedy' | 'sampled';
export type Request = {
  index: number;
  shape: 'chat' | 'completion';
  prompt: string;
  mode: Mode;
  temperature: number;
  topP: number;
  seed: number;
  maxTokens: number;
  stop: string[];
  /** undefined: the field left out (the default, auto). */
  validation: string | undefined;
};

export type Answer = {
  request: Request;
  shift: number;
  ms: number;
  /** When the answer arrived (ms since epoch). */
  at: number;
  status: number;
  taskId: string | null;
  node: string | null;
  text: string;
  finish: string | null;
  promptTokens: number;
  completionTokens: number;
  verdict: string | null;
  level: string | null;
  error?: string;
};

const vocab = buildTinyVocab();
const WORDS = vocab.tokens.filter((t, i) => vocab.types[i] === TokenType.NORMAL && t.startsWith('\u2581'));

/** The i-th request of the run: the same every run. */
export function makeRequest(index: number, maxTokens: number): Request {
  const rand = mulberry32(0x5eed + index * 7919);
  const pick = () => (WORDS[Math.floor(rand() * WORDS.length)] as string).replace('\u2581', ' ');
  const words = 2 + Math.floor(rand() * 7);
  const prompt = Array.from({ length: words }, pick).join('').trim();
  const mode: Mode = rand() < 0.5 ? 'greedy' : 'sampled';
  const hot = rand() < 0.5;
  const v = rand();
  // Mostly auto (most leave the field out, as clients do), then explicit levels.
  const validation =
    v < 0.7
      ? undefined
      : v < 0.8
        ? 'auto'
        : v < 0.85
          ? 'likelihood'
          : v < 0.9
            ? 'checksum'
            : v < 0.94
              ? 'redundant:3'
              : v < 0.97
                ? 'embedding'
                : 'none';
  return {
    index,
    shape: rand() < 0.75 ? 'chat' : 'completion',
    prompt,
    mode,
    temperature: mode === 'greedy' ? 0 : hot ? 1 : 0.7,
    topP: mode === 'greedy' ? 1 : hot ? 1 : 0.9,
    seed: 1 + Math.floor(rand() * 1_000_000),
    maxTokens: Math.max(4, maxTokens - Math.floor(rand() * (maxTokens / 2))),
    stop: rand() < 0.1 ? ['e'] : [],
    validation,
  };
}

/** One server-sent event of a streamed answer, as far as the bench reads it. */
type StreamEvent = {
  choices?: { text?: string; delta?: { content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
  omnitensor?: { node?: string; validation?: { level: string; verdict: string } };
  error?: { message: string };
};

/**
 * Reads a streamed answer as a user sees it: the text is every content piece that reached the client (only
 * what passed, for a verified stream), the node and the check come from the last chunk (a stream redone
 * elsewhere ends with the node whose answer was kept), and an error event ends it as a failure.
 */
async function readStream(
  response: Response,
  request: Request,
): Promise<Omit<Answer, 'shift' | 'ms' | 'at'>> {
  let text = '';
  let finish: string | null = null;
  let usage: StreamEvent['usage'];
  let receipt: StreamEvent['omnitensor'];
  let error: string | undefined;
  for await (const data of sseData(response)) {
    const event = JSON.parse(data) as StreamEvent;
    const choice = event.choices?.[0];
    text += choice?.delta?.content ?? choice?.text ?? '';
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (event.usage) usage = event.usage;
    if (event.omnitensor) receipt = event.omnitensor;
    if (event.error) error = event.error.message;
  }
  return {
    request,
    status: error ? 0 : response.status,
    taskId: response.headers.get('x-omnitensor-task-id'),
    node: receipt?.node?.toLowerCase() ?? response.headers.get('x-omnitensor-node')?.toLowerCase() ?? null,
    text,
    finish,
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    verdict: receipt?.validation?.verdict ?? null,
    level: receipt?.validation?.level ?? null,
    ...(error ? { error } : {}),
  };
}

export async function send(
  url: string,
  apiKey: string,
  request: Request,
  stream = false,
): Promise<Omit<Answer, 'shift' | 'ms' | 'at'>> {
  const common = {
    model: 'tiny',
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    seed: request.seed,
    ...(request.stop.length > 0 ? { stop: request.stop } : {}),
    ...(request.validation ? { validation: request.validation } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  const body =
    request.shape === 'chat'
      ? { ...common, messages: [{ role: 'user', content: request.prompt }] }
      : { ...common, prompt: request.prompt };
  const path = request.shape === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const empty = { text: '', finish: null, promptTokens: 0, completionTokens: 0 };
  try {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const streamed = response.headers.get('content-type')?.startsWith('text/event-stream');
    if (stream && response.ok && streamed) return await readStream(response, request);
    const json = (await response.json()) as {
      choices?: { text?: string; message?: { content: string }; finish_reason: string }[];
      usage?: { prompt_tokens: number; completion_tokens: number };
      omnitensor?: { validation?: { level: string; verdict: string } };
      error?: { message: string };
    };
    const choice = json.choices?.[0];
    return {
      request,
      status: response.status,
      taskId: response.headers.get('x-omnitensor-task-id'),
      node: response.headers.get('x-omnitensor-node')?.toLowerCase() ?? null,
      ...empty,
      text: choice?.message?.content ?? choice?.text ?? '',
      finish: choice?.finish_reason ?? null,
      promptTokens: json.usage?.prompt_tokens ?? 0,
      completionTokens: json.usage?.completion_tokens ?? 0,
      verdict: response.headers.get('x-omnitensor-verdict'),
      level: json.omnitensor?.validation?.level ?? null,
      ...(response.status === 200 ? {} : { error: json.error?.message ?? `status ${response.status}` }),
    };
  } catch (error) {
    return {
      request,
      status: 0,
      taskId: null,
      node: null,
      verdict: null,
      level: null,
      ...empty,
      error: String(error),
    };
  }
}
