/**
 * Adversarial benchmark (issue 4): a network of real processes on loopback (the router CLI, honest node
 * CLIs, validators, and cheating nodes from bench/sim/cheater-node.ts), all on the tiny F32 model, under a
 * realistic mix of requests (greedy and seeded sampled, chat and completion, mostly `auto`, some explicit
 * levels). Cheaters come in shifts so that at any time they are about `share` of the workers: random text,
 * another seed's model, a Q8_0 copy claimed as the F32 model, truncated output, replayed answers, and a
 * colluding pair (two workers answering from one other model, one payout wallet, plus a validator of that
 * wallet that passes their outputs). A sleeper works honestly all run, then turns to random text in the last
 * shift (the attack adaptive checking is weakest against). It measures, in one run:
 *
 * - cheating results that reached the user undetected, over cheating results produced: an answer counts
 *   as a delivered cheat when the node in its x-omnitensor-node header is a cheater AND its text differs
 *   from the honest reference, recomputed in this process after the run by src/engine (the claimed model,
 *   threads 1, the request's own parameters and seed). Cheating results produced are those the cheaters
 *   logged as rewritten (their own engine had computed the honest text first);
 * - honest results flagged: fail verdicts on the honest workers in the router's verdicts table; beside it, the
 *   likelihood judge alone on honest outputs of the same request mix, generated and scored in this process;
 * - verification compute over useful compute: engine tokens (score passes' evaluatedTokens, replicas'
 *   prompt + completion tokens, embedding prompt tokens) over the delivered results' prompt + completion
 *   tokens, from the router's database, by phase of the honest nodes' reputation (untrusted, trusted, at
 *   the 4 % floor);
 * - the cost of `likelihood` versus regenerating: bench/likelihood-cost.ts.
 * It also lists anomalies: results of untrusted nodes delivered unchecked under `auto`, verdicts given by a
 * node of the checked node's wallet, honest attempts thrown away, requests that failed.
 *
 * Knobs (environment): ADV_REQUESTS (default 8000), ADV_SHARE (0.3), ADV_HONEST (3), ADV_CONCURRENCY (8),
 * ADV_MAX_TOKENS (24), ADV_COST (1; 0 skips the likelihood-cost measurement), ADV_JUDGE (3000 honest outputs
 * judged in this process), ADV_SYBIL (0; 1 adds a Sybil pair: two colluders with two wallets, whose texts the
 * colluding validator passes), ADV_KEEP (keep the scratch folder: router database, cheaters' logs).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createKey, registerModel } from '../src/cli/local-commands.js';
import {
  createLlamaEngine,
  type GenerateParams,
  type LoadedModel,
  type ScoreInput,
} from '../src/engine/index.js';
import { buildTinyVocab, mulberry32, TokenType, writeTinyModel } from '../src/models/index.js';
import {
  AUTO_POLICY_DEFAULTS,
  checkRate,
  EMPTY_RECORD,
  isTrusted,
  judgeLikelihood,
  type ReputationRecord,
  recordVerdict,
} from '../src/verify/index.js';
import { measureCost } from './likelihood-cost.js';
import type { CheaterConfig, CheatKind } from './sim/cheater-node.js';

const cli = resolve(import.meta.dirname, '../bin/otensor-cli.js');
const cheaterScript = resolve(import.meta.dirname, 'sim/cheater-node.ts');

export type AdversarialOptions = {
  requests?: number;
  /** Share of the workers that cheat at any time (the sleeper counts as honest until it turns). */
  share?: number;
  honest?: number;
  concurrency?: number;
  maxTokens?: number;
  measureLikelihoodCost?: boolean;
  /** Honest outputs judged in the bench process (ADV_JUDGE, default 3000). */
  judgeRequests?: number;
  /** Add a Sybil pair (two colluders with two wallets, passed by the colluding validator); default off. */
  sybil?: boolean;
};

const envNumber = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

/** A cheating unit: one or more processes run together in a shift. */
type Unit = {
  name: string;
  members: { cheat: CheatKind; swap?: 'seed2' | 'q8' | 'seed3' }[];
  /** Counted apart from the kinds the issue lists. */
  extra?: boolean;
  /** Each member its own payout wallet (a Sybil pair), instead of the colluders' shared one. */
  ownWallets?: boolean;
};

const UNITS: Unit[] = [
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
const SLEEPER = 'sleeper (turns in the last shift)';

type Proc = {
  child: ChildProcess;
  output: () => string;
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
};

function spawnNode(argv: string[]): Proc {
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OTENSOR_LOG: 'warn' },
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (data: Buffer) => {
    output += data.toString();
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    child,
    output: () => output,
    exited,
    line(pattern, timeoutMs = 120_000) {
      return new Promise((resolveLine, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (!match) return;
          cleanup();
          resolveLine(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output.slice(-2000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallet = (byte: number) => `0x${byte.toString(16).padStart(2, '0').repeat(20)}`;
const ratio = (a: number, b: number, digits = 5) => (b === 0 ? null : Number((a / b).toFixed(digits)));

type Mode = 'greedy' | 'sampled';
type Request = {
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

type Answer = {
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

function latencies(answers: Answer[]) {
  const groups: Record<string, number[]> = {};
  for (const a of answers) {
    const level = a.level ?? 'none';
    groups[level] = [...(groups[level] ?? []), a.ms];
  }
  return Object.fromEntries(
    Object.entries(groups).map(([level, ms]) => {
      ms.sort((x, y) => x - y);
      const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0);
      return [level, { n: ms.length, p50: at(0.5), p90: at(0.9), p99: at(0.99) }];
    }),
  );
}

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

async function send(
  url: string,
  apiKey: string,
  request: Request,
): Promise<Omit<Answer, 'shift' | 'ms' | 'at'>> {
  const common = {
    model: 'tiny',
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    seed: request.seed,
    ...(request.stop.length > 0 ? { stop: request.stop } : {}),
    ...(request.validation ? { validation: request.validation } : {}),
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

async function waitForNodes(url: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const health = (await (await fetch(`${url}/health`)).json()) as { nodes: number };
      if (health.nodes >= count) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`fewer than ${count} nodes connected to ${url}`);
}

type NodeRole = 'honest' | 'validator' | 'colluding validator' | 'sleeper' | string;

export async function adversarialBench(options: AdversarialOptions = {}): Promise<Record<string, unknown>> {
  const requests = options.requests ?? envNumber('ADV_REQUESTS') ?? 8000;
  const share = options.share ?? envNumber('ADV_SHARE') ?? 0.3;
  const honestCount = options.honest ?? envNumber('ADV_HONEST') ?? 3;
  // More clients than workers keeps every worker busy (a loaded network); with fewer, the scheduler's
  // preference for reputable nodes starves the cheaters of work.
  const concurrency = options.concurrency ?? envNumber('ADV_CONCURRENCY') ?? 8;
  const sybil = options.sybil ?? (envNumber('ADV_SYBIL') ?? 0) !== 0;
  const units = UNITS.filter((u) => sybil || !u.ownWallets);
  const maxTokens = options.maxTokens ?? envNumber('ADV_MAX_TOKENS') ?? 24;
  const withCost = options.measureLikelihoodCost ?? (envNumber('ADV_COST') ?? 1) !== 0;
  const log = (text: string) => process.stderr.write(`  adversarial: ${text}\n`);
  const started = performance.now();

  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-adversarial-'));
  const models = {
    claimed: join(dir, 'tiny-f32-s1.gguf'),
    q8: join(dir, 'tiny-q8-s1.gguf'),
    seed2: join(dir, 'tiny-f32-s2.gguf'),
    seed3: join(dir, 'tiny-f32-s3.gguf'),
  };
  await writeTinyModel(models.claimed, { seed: 1, type: 'f32' });
  await writeTinyModel(models.q8, { seed: 1, type: 'q8_0' });
  await writeTinyModel(models.seed2, { seed: 2, type: 'f32' });
  await writeTinyModel(models.seed3, { seed: 3, type: 'f32' });
  const routerData = join(dir, 'router');
  await registerModel(routerData, models.claimed, 'tiny');
  const apiKey = createKey(routerData);

  const processes: Proc[] = [];
  // If the bench dies halfway, its node processes must not live on.
  const killAll = () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const roles = new Map<string, NodeRole>();
  const wallets = new Map<string, string>();
  const records: string[] = [];
  let connected = 0;

  const router = spawnNode([
    cli,
    'router',
    'start',
    '--port',
    '0',
    '--data',
    routerData,
    '--queue-limit',
    '100000',
  ]);
  processes.push(router);
  const [, url] = (await router.line(/router: (http:\/\/\S+)/)) as [string, string];

  const startCli = async (name: string, role: NodeRole, payout: string, extra: string[] = []) => {
    const data = join(dir, name);
    const proc = spawnNode([
      cli,
      'node',
      'start',
      '--router',
      url,
      '--model',
      models.claimed,
      '--data',
      data,
      '--threads',
      '1',
      '--slots',
      '1',
      '--wallet',
      payout,
      ...extra,
    ]);
    processes.push(proc);
    connected++;
    await waitForNodes(url, connected);
    // The node's id is the address in its data folder.
    const identity = JSON.parse(readFileSync(join(data, 'node-key.json'), 'utf8')) as { address: string };
    const id = identity.address.toLowerCase();
    roles.set(id, role);
    wallets.set(id, payout);
    return { proc, id };
  };

  /** Spawns a cheating node, dormant: loaded, not yet connected (`wake` connects it). */
  const spawnCheater = (
    name: string,
    cheat: CheatKind,
    payout: string,
    extra: Partial<CheaterConfig> = {},
  ) => {
    const record = join(dir, `${name}.jsonl`);
    records.push(record);
    const config: CheaterConfig = {
      router: url,
      model: models.claimed,
      data: join(dir, name),
      wallet: payout,
      cheat,
      record,
      dormant: true,
      ...extra,
    };
    const proc = spawnNode(['--import', 'tsx', cheaterScript, JSON.stringify(config)]);
    processes.push(proc);
    const loaded = proc.line(/cheater dormant/, 300_000);
    return {
      proc,
      name,
      loaded,
      async wake() {
        await loaded;
        proc.child.kill('SIGHUP');
        const [, id] = (await proc.line(/cheater [\w-]+ connected: (0x[0-9a-fA-F]{40})/)) as [string, string];
        connected++;
        await waitForNodes(url, connected);
        roles.set(id.toLowerCase(), name);
        wallets.set(id.toLowerCase(), payout);
        return { proc, id: id.toLowerCase(), name };
      },
    };
  };
  const startCheater = (name: string, cheat: CheatKind, payout: string, extra: Partial<CheaterConfig> = {}) =>
    spawnCheater(name, cheat, payout, extra).wake();

  const stopProc = async (proc: Proc) => {
    proc.child.kill('SIGTERM');
    const timeout = sleep(10_000).then(() => proc.child.kill('SIGKILL'));
    await Promise.race([proc.exited, timeout]);
    await proc.exited;
    connected--;
  };

  // The honest network: workers, one validator; then the colluding validator and the sleeper.
  const honestIds: string[] = [];
  for (let i = 0; i < honestCount; i++)
    honestIds.push((await startCli(`honest-${i}`, 'honest', wallet(0x10 + i))).id);
  await startCli('validator', 'validator', wallet(0x30), ['--role', 'validator']);
  const colludeWallet = wallet(0xcc);
  const shared = join(dir, 'collusion-shared.txt');
  const colludingValidator = await startCheater('colluding-validator', 'collude-validator', colludeWallet, {
    roles: ['validator'],
    swapModel: models.seed3,
    shared,
  });
  roles.set(colludingValidator.id, 'colluding validator');
  const sleeper = await startCheater('sleeper', 'sleeper', wallet(0x40));
  roles.set(sleeper.id, 'sleeper');
  log(`network up: router, ${honestCount} honest workers, 1 validator, 1 colluding validator, 1 sleeper`);

  // Shifts: cheater units packed so that about `share` of the workers cheat at any time.
  const honestLooking = honestCount + 1;
  const perShift = Math.max(1, Math.round((share / (1 - share)) * honestLooking));
  const shifts: { units: Unit[]; sleeperTurns: boolean }[] = [];
  for (const unit of units) {
    const last = shifts[shifts.length - 1];
    const size = last?.units.reduce((n, u) => n + u.members.length, 0) ?? Number.POSITIVE_INFINITY;
    if (last && size + unit.members.length <= perShift) last.units.push(unit);
    else shifts.push({ units: [unit], sleeperTurns: false });
  }
  const lastShift = shifts[shifts.length - 1] as { units: Unit[]; sleeperTurns: boolean };
  if (lastShift.units.reduce((n, u) => n + u.members.length, 0) + 1 <= perShift)
    lastShift.sleeperTurns = true;
  else shifts.push({ units: [], sleeperTurns: true });
  log(
    `${shifts.length} shifts of ${Math.ceil(requests / shifts.length)} requests, ${perShift} cheater(s) at a time: ${shifts
      .map((s) => [...s.units.map((u) => u.name), ...(s.sleeperTurns ? ['sleeper'] : [])].join(' + '))
      .join(' | ')}`,
  );

  // Every cheater is spawned now (loading takes seconds on a busy machine) and connects when its shift begins.
  let cheaterCount = 0;
  const unitOf = new Map<string, string>();
  const dormant = shifts.map((shift) =>
    shift.units.map((unit) => {
      const payout = wallet(0x50 + cheaterCount);
      return {
        unit,
        members: unit.members.map((member) => {
          const name = `cheater-${++cheaterCount}-${member.cheat}${member.swap ? `-${member.swap}` : ''}`;
          const own = unit.ownWallets ? wallet(0x80 + cheaterCount) : payout;
          return spawnCheater(
            name,
            member.cheat,
            member.cheat === 'collude' && !unit.ownWallets ? colludeWallet : own,
            {
              ...(member.swap ? { swapModel: models[member.swap] } : {}),
              ...(member.cheat === 'collude' ? { shared } : {}),
            },
          );
        }),
      };
    }),
  );
  await Promise.all(dormant.flat().flatMap((u) => u.members.map((m) => m.loaded)));
  log(`${cheaterCount} cheaters loaded, dormant`);
  let active: { proc: Proc; id: string }[] = [];
  const beginShift = async (index: number) => {
    const t0 = performance.now();
    for (const cheater of active) await stopProc(cheater.proc);
    active = [];
    const shift = shifts[index];
    if (!shift) return;
    for (const { unit, members } of dormant[index] ?? []) {
      for (const member of members) {
        const cheater = await member.wake();
        unitOf.set(cheater.id, unit.name);
        active.push(cheater);
      }
    }
    if (shift.sleeperTurns) {
      sleeper.proc.child.kill('SIGUSR2');
      unitOf.set(sleeper.id, SLEEPER);
    }
    log(`shift ${index + 1} began (${((performance.now() - t0) / 1000).toFixed(1)} s to change cheaters)`);
  };

  // Warm every node once (first-use allocations), unchecked so that nothing counts yet.
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      send(url, apiKey, { ...makeRequest(-1 - i, maxTokens), validation: 'none' }),
    ),
  );

  const answers: Answer[] = [];
  const perShiftRequests = Math.ceil(requests / shifts.length);
  let next = 0;
  let currentShift = -1;
  let shiftChange: Promise<void> = Promise.resolve();
  const loadStart = performance.now();
  const loadStartAt = Date.now();
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= requests) return;
      const shift = Math.floor(index / perShiftRequests);
      if (shift !== currentShift) {
        currentShift = shift;
        // The loop that crosses a boundary changes the cheaters; the others keep sending meanwhile.
        shiftChange = shiftChange.then(() => beginShift(shift));
        await shiftChange;
      }
      const t0 = performance.now();
      const answer = await send(url, apiKey, makeRequest(index, maxTokens));
      answers.push({ ...answer, shift, ms: performance.now() - t0, at: Date.now() });
      if (answers.length % 500 === 0)
        log(
          `${answers.length}/${requests} answers, ${((performance.now() - loadStart) / 1000).toFixed(0)} s`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const loadSeconds = (performance.now() - loadStart) / 1000;
  await shiftChange;
  log(`load done: ${answers.length} answers in ${loadSeconds.toFixed(0)} s`);

  // Reputation as the router reports it.
  const reputation: Record<string, unknown> = {};
  for (const [id, role] of roles) {
    const response = await fetch(`${url}/api/nodes/${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (response.ok) {
      const body = (await response.json()) as {
        reputation: { score: number; passes: number; fails: number; streak: number }[];
      };
      const r = body.reputation[0];
      reputation[`${role} ${id.slice(0, 10)}`] = r
        ? { score: Number(r.score.toFixed(3)), passes: r.passes, fails: r.fails, streak: r.streak }
        : null;
    }
  }

  for (const cheater of active) await stopProc(cheater.proc);
  for (const proc of processes.slice(1)) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
  await Promise.all(processes.slice(1).map((p) => Promise.race([p.exited, sleep(10_000)])));
  router.child.kill('SIGINT');
  await Promise.race([router.exited, sleep(10_000)]);
  killAll();
  process.off('exit', killAll);
  const routerWarnings = router
    .output()
    .split('\n')
    .filter((l) => l.trim().length > 0);

  // ---- The router's records.
  const db = new Database(join(routerData, 'router.db'), { readonly: true });
  type VerdictRow = {
    task_id: string;
    attempt: number;
    node_id: string;
    validator_id: string;
    level: string;
    outcome: string;
    reason: string;
    at: number;
  };
  const verdicts = db
    .prepare(
      'SELECT task_id, attempt, node_id, validator_id, level, outcome, reason, at FROM verdicts ORDER BY at',
    )
    .all() as VerdictRow[];
  type TaskRow = { id: string; idempotency_key: string | null; created_at: number; status: string };
  const tasks = db.prepare('SELECT id, idempotency_key, created_at, status FROM tasks').all() as TaskRow[];
  type ResultRow = { task_id: string; node_id: string; attempt: number; output: string; created_at: number };
  const results = new Map(
    (
      db.prepare('SELECT task_id, node_id, attempt, output, created_at FROM results').all() as ResultRow[]
    ).map((r) => [r.task_id, r]),
  );
  db.close();

  const isHonest = (id: string | null) => id !== null && roles.get(id) === 'honest';
  const isCheater = (id: string | null) =>
    id !== null && !['honest', 'validator'].includes(roles.get(id) ?? 'honest');

  // ---- When the honest workers became trusted and reached the floor (replaying verdicts as the router does).
  const records0 = new Map<string, ReputationRecord>();
  const trustedAt = new Map<string, number>();
  const floorAt = new Map<string, number>();
  for (const v of verdicts) {
    if (v.outcome !== 'pass' && v.outcome !== 'fail') continue;
    const record = recordVerdict(records0.get(v.node_id) ?? EMPTY_RECORD, v.outcome);
    records0.set(v.node_id, record);
    if (isTrusted(record) && !trustedAt.has(v.node_id)) trustedAt.set(v.node_id, v.at);
    if (checkRate(record) <= AUTO_POLICY_DEFAULTS.floor && !floorAt.has(v.node_id))
      floorAt.set(v.node_id, v.at);
  }
  const allBy = (map: Map<string, number>) =>
    honestIds.every((id) => map.has(id)) ? Math.max(...honestIds.map((id) => map.get(id) as number)) : null;
  const tTrusted = allBy(trustedAt);
  const tFloor = allBy(floorAt);

  // ---- Compute: useful (delivered results) and checks, per checked result.
  const userTasks = new Map<string, TaskRow>();
  const checkTasks: (TaskRow & { of: string; attempt: number })[] = [];
  for (const t of tasks) {
    const key = t.idempotency_key ?? '';
    if (key.startsWith('check:')) {
      const [, of, attempt] = key.split(':');
      checkTasks.push({ ...t, of: of as string, attempt: Number(attempt) });
    } else userTasks.set(t.id, t);
  }
  const tokensOf = (r: ResultRow | undefined) => {
    if (!r) return 0;
    const output = JSON.parse(r.output) as {
      promptTokens: number;
      completionTokens: number;
      scores?: { evaluatedTokens: number };
    };
    return output.scores ? output.scores.evaluatedTokens : output.promptTokens + output.completionTokens;
  };
  const answered = new Map(answers.filter((a) => a.taskId).map((a) => [a.taskId as string, a]));
  type Bucket = {
    useful: number;
    check: number;
    results: number;
    checks: number;
    checkedResults: Set<string>;
  };
  const bucket = (): Bucket => ({ useful: 0, check: 0, results: 0, checks: 0, checkedResults: new Set() });
  const phases = ['untrusted', 'trusted', 'floor'] as const;
  type Phase = (typeof phases)[number];
  const phaseOf = (at: number): Phase =>
    tFloor !== null && at >= tFloor ? 'floor' : tTrusted !== null && at >= tTrusted ? 'trusted' : 'untrusted';
  const honestAuto = Object.fromEntries(phases.map((p) => [p, bucket()])) as Record<Phase, Bucket>;
  const honestAll = Object.fromEntries(phases.map((p) => [p, bucket()])) as Record<Phase, Bucket>;
  const network = Object.fromEntries(phases.map((p) => [p, bucket()])) as Record<Phase, Bucket>;
  for (const [id, task] of userTasks) {
    const result = results.get(id);
    const answer = answered.get(id);
    if (!result || !answer) continue;
    const phase = phaseOf(task.created_at);
    const tokens = tokensOf(result);
    network[phase].useful += tokens;
    network[phase].results++;
    if (!isHonest(result.node_id)) continue;
    honestAll[phase].useful += tokens;
    honestAll[phase].results++;
    const auto = answer.request.validation === undefined || answer.request.validation === 'auto';
    if (auto) {
      honestAuto[phase].useful += tokens;
      honestAuto[phase].results++;
    }
  }
  let cheatCheckTokens = 0;
  for (const check of checkTasks) {
    const task = userTasks.get(check.of);
    if (!task) continue;
    const phase = phaseOf(task.created_at);
    const tokens = tokensOf(results.get(check.id));
    network[phase].check += tokens;
    network[phase].checks++;
    const result = results.get(check.of);
    const answer = answered.get(check.of);
    // A check of the delivered attempt counts against its node; one of an earlier (failed) attempt does not.
    if (result && result.attempt === check.attempt && isHonest(result.node_id) && answer) {
      honestAll[phase].check += tokens;
      honestAll[phase].checks++;
      honestAll[phase].checkedResults.add(check.of);
      if (answer.request.validation === undefined || answer.request.validation === 'auto') {
        honestAuto[phase].check += tokens;
        honestAuto[phase].checks++;
        honestAuto[phase].checkedResults.add(check.of);
      }
    } else cheatCheckTokens += tokens;
  }
  const costTable = (b: Record<Phase, Bucket>) =>
    Object.fromEntries(
      phases.map((p) => [
        p,
        {
          results: b[p].results,
          checkedResults: b[p].checkedResults.size || undefined,
          checkTasks: b[p].checks,
          usefulTokens: b[p].useful,
          checkTokens: b[p].check,
          checkOverUseful: ratio(b[p].check, b[p].useful, 4),
        },
      ]),
    );

  // ---- The honest reference for delivered answers: the claimed model in this process, threads 1.
  log('computing honest references for answers from cheaters (and a sample of honest ones)...');
  const engine = await createLlamaEngine({ gpu: false, logLevel: 'error' });
  const reference = await engine.loadModel(models.claimed, { threads: 1 });
  const referenceOf = async (request: Request) => {
    const params: GenerateParams = {
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      topP: request.topP,
      seed: request.seed,
      stop: request.stop,
    };
    const result =
      request.shape === 'chat'
        ? await reference.chat([{ role: 'user', content: request.prompt }], params, () => {})
        : await reference.complete(request.prompt, params, () => {});
    return result.text;
  };
  const ok = answers.filter((a) => a.status === 200);
  const fromCheaters = ok.filter((a) => isCheater(a.node));
  const honestSample = ok.filter((a) => isHonest(a.node)).filter((_, i) => i % 20 === 0);
  const differs = new Map<Answer, boolean>();
  for (const answer of [...fromCheaters, ...honestSample])
    differs.set(answer, (await referenceOf(answer.request)) !== answer.text);

  // ---- Cheating results produced (the cheaters' own logs), on user tasks only.
  type CheatLine = {
    task: string;
    attempt: number;
    cheat: string;
    tampered?: boolean;
    colluded?: boolean;
    at: number;
  };
  const cheatLines: (CheatLine & { node: string })[] = [];
  for (const file of records) {
    if (!existsSync(file)) continue;
    const name = file.slice(dir.length + 1, -'.jsonl'.length);
    const node = [...roles].find(
      ([, role]) => role === name || (name === 'sleeper' && role === 'sleeper'),
    )?.[0];
    for (const text of readFileSync(file, 'utf8').split('\n'))
      if (text) cheatLines.push({ ...(JSON.parse(text) as CheatLine), node: node ?? name });
  }
  const kindOf = (node: string) => unitOf.get(node) ?? roles.get(node) ?? 'unknown';
  const perKind: Record<
    string,
    {
      cheatingResults: number;
      onChecks: number;
      sameAsHonest: number;
      delivered: number;
      deliveredUndetected: number;
      deliveredUnderNone: number;
      undetectedByLevel: Record<string, number>;
    }
  > = {};
  const kind = (name: string) => {
    perKind[name] ??= {
      cheatingResults: 0,
      onChecks: 0,
      sameAsHonest: 0,
      delivered: 0,
      deliveredUndetected: 0,
      deliveredUnderNone: 0,
      undetectedByLevel: {},
    };
    return perKind[name];
  };
  const noneTasks = new Set(ok.filter((a) => a.request.validation === 'none').map((a) => a.taskId));
  let colludedScores = 0;
  for (const line of cheatLines) {
    if (line.colluded) {
      colludedScores++;
      continue;
    }
    const k = kind(kindOf(line.node));
    if (!userTasks.has(line.task)) {
      if (line.tampered) k.onChecks++;
      continue;
    }
    if (!line.tampered) k.sameAsHonest++;
    // Results asked for with `none` are the user's choice: counted apart.
    else if (!noneTasks.has(line.task)) k.cheatingResults++;
  }
  const undetected: {
    task: string | null;
    node: string | null;
    kind: string;
    level: string | null;
    requested: string;
    mode: Mode;
    finish: string | null;
  }[] = [];
  for (const answer of fromCheaters) {
    const k = kind(kindOf(answer.node as string));
    k.delivered++;
    if (!differs.get(answer)) continue;
    if (answer.request.validation === 'none') {
      k.deliveredUnderNone++;
      continue;
    }
    k.deliveredUndetected++;
    const label = `${answer.level ?? 'none'} (${answer.request.mode})`;
    k.undetectedByLevel[label] = (k.undetectedByLevel[label] ?? 0) + 1;
    undetected.push({
      task: answer.taskId,
      node: answer.node,
      kind: kindOf(answer.node as string),
      level: answer.level,
      requested: answer.request.validation ?? 'auto',
      mode: answer.request.mode,
      finish: answer.finish,
    });
  }
  const extras = new Set([SLEEPER, 'sleeper', ...UNITS.filter((u) => u.extra).map((u) => u.name)]);
  const listedKinds = Object.entries(perKind).filter(([name]) => !extras.has(name));
  const extraKinds = Object.entries(perKind).filter(([name]) => extras.has(name));
  const sum = (entries: [string, (typeof perKind)[string]][], f: (k: (typeof perKind)[string]) => number) =>
    entries.reduce((n, [, k]) => n + f(k), 0);
  const cheating = sum(listedKinds, (k) => k.cheatingResults);
  const undetectedCount = sum(listedKinds, (k) => k.deliveredUndetected);

  // ---- Anomalies: a result of a node that was not trusted at the time, delivered unchecked under `auto`.
  const uncheckedFromUntrusted = ok
    .filter((a) => (a.level ?? 'none') === 'none' && a.request.validation !== 'none' && a.node !== null)
    .filter((a) => (trustedAt.get(a.node as string) ?? Number.POSITIVE_INFINITY) > a.at)
    .map((a) => ({
      task: a.taskId,
      node: a.node,
      role: kindOf(a.node as string),
      validationField: a.level === null ? 'missing' : 'level none',
      attempt: a.taskId ? results.get(a.taskId)?.attempt : undefined,
      checksOfThisTask: checkTasks.filter((c) => c.of === a.taskId).map((c) => c.attempt),
      tampered: cheatLines.find((l) => l.task === a.taskId)?.tampered ?? null,
    }));

  // ---- Checked attempts whose output was honest but was not delivered (thrown away and redone).
  const cheatAttempt = new Map(
    cheatLines.filter((l) => !l.colluded).map((l) => [`${l.task}:${l.attempt}`, l]),
  );
  const checkedAttempts = new Set(checkTasks.map((c) => `${c.of}:${c.attempt}`));
  let honestDiscarded = 0;
  let honestDiscardedWithFailVerdict = 0;
  for (const key of checkedAttempts) {
    const [task, attempt] = key.split(':') as [string, string];
    if (!userTasks.has(task) || results.get(task)?.attempt === Number(attempt)) continue;
    const line = cheatAttempt.get(key);
    if (line?.tampered) continue;
    honestDiscarded++;
    const failed = (v: VerdictRow) =>
      v.task_id === task && v.attempt === Number(attempt) && v.outcome === 'fail' && isHonest(v.node_id);
    if (verdicts.some(failed)) honestDiscardedWithFailVerdict++;
  }
  const failedTasks = [...userTasks.values()].filter((t) => t.status === 'failed').length;

  // ---- Honest results flagged.
  const honestVerdicts = verdicts.filter((v) => isHonest(v.node_id));
  const honestFails = honestVerdicts.filter((v) => v.outcome === 'fail');
  const honestDelivered = ok.filter((a) => isHonest(a.node)).length;
  const sameWalletVerdicts = verdicts
    .filter(
      (v) => wallets.get(v.node_id) !== undefined && wallets.get(v.node_id) === wallets.get(v.validator_id),
    )
    .map((v) => ({
      task: v.task_id,
      attempt: v.attempt,
      node: kindOf(v.node_id),
      validator: kindOf(v.validator_id),
      level: v.level,
      outcome: v.outcome,
    }));

  // ---- The likelihood judge alone on honest outputs of the same request mix (generated and scored here):
  // what the validator would say of every honest result, not only of those the network happened to check.
  const judgeRequests = options.judgeRequests ?? envNumber('ADV_JUDGE') ?? 3000;
  log(`judging ${judgeRequests} honest outputs in this process...`);
  const isolated = { greedy: { outputs: 0, failed: 0 }, sampled: { outputs: 0, failed: 0 } };
  const isolatedFails: { request: number; mode: Mode; reason: string }[] = [];
  for (let i = 0; i < judgeRequests; i++) {
    const request = makeRequest(i, maxTokens);
    const params: GenerateParams = {
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      topP: request.topP,
      seed: request.seed,
      stop: request.stop,
    };
    const input: ScoreInput =
      request.shape === 'chat'
        ? { messages: [{ role: 'user', content: request.prompt }] }
        : { prompt: request.prompt };
    const result =
      'messages' in input
        ? await reference.chat(input.messages, params, () => {})
        : await reference.complete(input.prompt, params, () => {});
    const scores = await reference.score(input, result.text, { stop: request.stop });
    const judged = judgeLikelihood({
      scores,
      params,
      claim: { finishReason: result.finishReason, completionTokens: result.completionTokens },
    });
    isolated[request.mode].outputs++;
    if (judged.outcome !== 'pass') {
      isolated[request.mode].failed++;
      isolatedFails.push({ request: i, mode: request.mode, reason: judged.reason });
    }
  }

  // ---- Cost of likelihood versus regenerating (bench/likelihood-cost.ts), with the network stopped.
  let likelihoodCost: unknown = 'skipped (ADV_COST=0)';
  if (withCost) {
    log('measuring likelihood cost versus regenerating (bench/likelihood-cost.ts)...');
    const prompts: ScoreInput[] = Array.from({ length: 16 }, (_, i) => {
      const r = makeRequest(100_000 + i, maxTokens);
      return r.shape === 'chat'
        ? { messages: [{ role: 'user' as const, content: r.prompt }] }
        : { prompt: r.prompt };
    });
    likelihoodCost = await measureCost(engine, reference as LoadedModel, prompts, dir);
  }
  await reference.dispose();
  await engine.dispose();
  if (process.env.ADV_KEEP) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });

  const statusCounts: Record<string, number> = {};
  for (const a of answers) statusCounts[a.status] = (statusCounts[a.status] ?? 0) + 1;
  const levels: Record<string, number> = {};
  for (const a of ok) {
    const key = `${a.request.validation ?? '(default)'} -> ${a.level ?? 'none'}`;
    levels[key] = (levels[key] ?? 0) + 1;
  }
  const honestByPhase = (b: Record<Phase, Bucket>) => ({ ...costTable(b) });
  const floorHonest = honestAuto.floor;

  return {
    name: 'adversarial',
    network: {
      router: 1,
      honestWorkers: honestCount,
      validators: 1,
      colludingValidators: 1,
      sleeper: 1,
      cheatersAtOnce: perShift,
      cheaterShareOfWorkers: ratio(perShift, perShift + honestLooking, 3),
      shifts: shifts.map((s) => [
        ...s.units.map((u) => u.name),
        ...(s.sleeperTurns ? ['sleeper turns'] : []),
      ]),
      model: 'tiny F32 seed 1 (claimed); cheaters: seed 2 F32, Q8_0 seed 1, seed 3 F32 (colluders)',
      threadsPerNode: 1,
      slotsPerNode: 1,
    },
    load: {
      requests,
      concurrency,
      maxTokens,
      seconds: Number(loadSeconds.toFixed(1)),
      requestsPerSecond: Number((answers.length / loadSeconds).toFixed(1)),
      status: statusCounts,
      requestedToApplied: levels,
      latencyMsByApplied: latencies(ok),
      errors: [...new Set(answers.filter((a) => a.error).map((a) => a.error))].slice(0, 5),
    },
    undetectedCheating: {
      figure: ratio(undetectedCount, cheating),
      target: 0.001,
      delivered: undetectedCount,
      cheatingResults: cheating,
      definition:
        'answers whose x-omnitensor-node is a cheater and whose text differs from the honest reference (the claimed model run in the bench process, threads 1, same parameters and seed), over the results the cheaters logged as rewritten on user tasks; requests that asked for `none` excluded from both',
      perKind: Object.fromEntries(Object.entries(perKind)),
      undetected: undetected.slice(0, 50),
      referenceCheck: {
        honestAnswersCompared: honestSample.length,
        honestAnswersDiffering: honestSample.filter((a) => differs.get(a)).length,
      },
    },
    extraAdversaries: {
      note: 'not in the figure above: a sleeper that turns after building trust, and a Sybil pair (two wallets) whose texts the colluding validator passes',
      delivered: sum(extraKinds, (k) => k.deliveredUndetected),
      cheatingResults: sum(extraKinds, (k) => k.cheatingResults),
      figure: ratio(
        sum(extraKinds, (k) => k.deliveredUndetected),
        sum(extraKinds, (k) => k.cheatingResults),
      ),
    },
    anomalies: {
      uncheckedFromUntrustedUnderAuto: uncheckedFromUntrusted,
      honestAttemptsDiscardedWithoutFailVerdict: honestDiscarded - honestDiscardedWithFailVerdict,
      honestAttemptsDiscardedWithFailVerdict: honestDiscardedWithFailVerdict,
      userTasksFailed: failedTasks,
    },
    honestFlagged: {
      figure: ratio(honestFails.length, honestVerdicts.length),
      target: 0.001,
      failVerdicts: honestFails.length,
      verdictsOnHonest: honestVerdicts.length,
      undecided: honestVerdicts.filter((v) => v.outcome === 'undecided').length,
      honestResultsDelivered: honestDelivered,
      overDelivered: ratio(honestFails.length, honestDelivered),
      fails: honestFails.slice(0, 10).map((v) => ({
        level: v.level,
        reason: v.reason,
        byColludingValidator: roles.get(v.validator_id) === 'colluding validator',
      })),
      isolatedJudge: {
        note: 'the likelihood judge on honest outputs of the first requests of the same mix, generated and scored in the bench process (threads 1): every honest output, not only those the network checked',
        ...isolated,
        share: ratio(
          isolated.greedy.failed + isolated.sampled.failed,
          isolated.greedy.outputs + isolated.sampled.outputs,
        ),
        fails: isolatedFails.slice(0, 10),
      },
    },
    verificationCost: {
      figure: ratio(floorHonest.check, floorHonest.useful, 4),
      target: 0.05,
      definition:
        "engine tokens of checks of honest workers' delivered `auto` results (score evaluatedTokens; replicas prompt + completion; embeddings prompt) over those results' prompt + completion tokens, for tasks created after every honest worker reached the 4 % floor",
      allHonestTrusted:
        tTrusted === null
          ? null
          : {
              afterSeconds: Math.round((tTrusted - loadStartAt) / 1000),
              afterAnswers: answers.filter((a) => a.at < tTrusted).length,
            },
      allHonestAtFloor:
        tFloor === null
          ? null
          : {
              afterSeconds: Math.round((tFloor - loadStartAt) / 1000),
              afterAnswers: answers.filter((a) => a.at < tFloor).length,
            },
      honestAuto: honestByPhase(honestAuto),
      honestAllLevels: honestByPhase(honestAll),
      network: costTable(network),
      checkTokensOnCheatersAndFailedAttempts: cheatCheckTokens,
    },
    collusion: {
      verdictsWhereValidatorSharesTheWallet: sameWalletVerdicts.length,
      sameWalletVerdicts: sameWalletVerdicts.slice(0, 10),
      partnerOutputsScoredByTheColludingValidator: colludedScores,
    },
    reputationAtEnd: reputation,
    routerWarnings: {
      lines: routerWarnings.length,
      checkFailedToRun: routerWarnings.filter((l) => l.includes('check failed to run')).length,
      sample: routerWarnings.filter((l) => !l.includes('result failed verification')).slice(0, 5),
    },
    likelihoodCost,
    totalSeconds: Number(((performance.now() - started) / 1000).toFixed(0)),
  };
}
