/**
 * Verified streaming (docs/verification.md, docs/benchmarks.md): a streamed 200-token chat on the tiny
 * model, on a fresh network of 3 nodes (as `up` starts), under `none`, `checksum`, `redundant:3`,
 * `likelihood` (with the validators' cost: score calls and tokens of the chunk checks against the
 * whole-answer check's) and the default level (`auto`, which checks every result of a new node by checksum), side by side and
 * interleaved in one run: time to first content, total time, content chunks per 32 tokens. Then the same
 * requests without streaming, `none` against `checksum`: a check that overlaps generation should take about
 * the time of one generation, not two in a row.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../src/models/index.js';
import { mark } from '../src/timing/marks.js';
import { startBenchNetwork } from './local-network.js';

type Sample = {
  ttftMs: number;
  totalMs: number;
  chunks: number;
  tokens: number;
  streamed: string;
  /** CPU time the request took: the node processes' (all of them) and this process's (router and client). */
  nodesCpuMs: number;
  routerCpuMs: number;
};

/** This process's child processes (the node processes), by /proc. */
function childPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU time (ms) of the given processes, all their threads, from schedstat (ns, not 10 ms ticks). */
function cpuMsOf(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`))
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {}
  }
  return ns / 1e6;
}
const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const ALL_LEVELS = ['none', 'checksum', 'redundant:3', 'likelihood', 'auto'] as const;
// VS_LEVELS=none,likelihood measures only those (the rest of the run is the same).
const LEVELS = (process.env.VS_LEVELS?.split(',') ?? ALL_LEVELS) as readonly string[];

type Network = Awaited<ReturnType<typeof startBenchNetwork>>;
type StartNetwork = typeof startBenchNetwork;

export async function verifiedStreamBench(options: { rounds?: number; maxTokens?: number } = {}) {
  const rounds = options.rounds ?? Number(process.env.VS_ROUNDS ?? 12);
  const maxTokens = options.maxTokens ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'otensor-verified-stream-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });
  const start = (startNetwork: StartNetwork, name: string) =>
    startNetwork({
      routerData: join(dir, `router${name}`),
      nodeData: (i) => join(dir, `node${name}-${i}`),
      modelPath,
      nodes: 3,
      threads: 1,
      // As `up` starts them: every node works and validates (likelihood needs a validator).
      role: 'both',
    });
  // VS_COMPARE=<another checkout>: a second network (router and nodes) running that checkout's code, measured
  // in the same rounds, each request in turn on both (a before/after of a change in one run).
  const compare = process.env.VS_COMPARE;
  const networks: { label: string; network: Network }[] = [
    { label: '', network: await start(startBenchNetwork, '') },
  ];
  if (compare) {
    const other = (await import(join(compare, 'bench/local-network.ts'))) as {
      startBenchNetwork: StartNetwork;
    };
    networks.push({ label: 'compare ', network: await start(other.startBenchNetwork, '-compare') });
  }

  const post = (network: Network, body: Record<string, unknown>) =>
    fetch(`${network.router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${network.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', max_tokens: maxTokens, temperature: 0.8, ...body }),
    });

  const streamed = async (
    network: Network,
    prompt: string,
    seed: number,
    validation: string,
  ): Promise<Sample> => {
    const start = performance.now();
    const nodesBefore = cpuMsOf(nodePids);
    const selfBefore = selfCpuMs();
    mark(`c.start ${validation} stream`);
    const response = await post(network, {
      messages: [{ role: 'user', content: prompt }],
      seed,
      stream: true,
      stream_options: { include_usage: true },
      ...(validation === 'auto' ? {} : { validation }),
    });
    let ttft = -1;
    let chunks = 0;
    let body = '';
    const decoder = new TextDecoder();
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(bytes, { stream: true });
      // One network read may carry several events: count content events, not reads.
      const contents = text.match(/"content":"[^"]/g)?.length ?? 0;
      if (contents > 0 && ttft < 0) {
        ttft = performance.now() - start;
        mark('c.first');
      }
      chunks += contents;
      body += text;
    }
    const tokens = Number(/"completion_tokens":(\d+)/.exec(body)?.[1] ?? 0);
    const how = /"streamed":"([a-z-]+)"/.exec(body)?.[1] ?? 'not said';
    mark('c.end');
    const totalMs = performance.now() - start;
    // What the request left running (a check's score still in flight) is counted with the next one.
    return {
      ttftMs: ttft,
      totalMs,
      chunks,
      tokens,
      streamed: how,
      nodesCpuMs: cpuMsOf(nodePids) - nodesBefore,
      routerCpuMs: selfCpuMs() - selfBefore,
    };
  };

  // Each check task's run (lease to done), to tell how long a non-streamed answer's checks ran: the
  // requests go one at a time, so every check task in a request's window is that request's.
  const checkRuns: [number, number][] = [];
  for (const { network } of networks) {
    const tasks = network.router.services.tasks;
    const submit = tasks.submit.bind(tasks);
    tasks.submit = (request) => {
      const handle = submit(request);
      if (request.idempotencyKey?.startsWith('check:')) {
        let leased = 0;
        handle.on('leased', () => {
          leased = performance.now();
        });
        handle.once('done', () => {
          if (leased > 0) checkRuns.push([leased, performance.now()]);
        });
      }
      return handle;
    };
  }
  /** How long at least one check task ran in [from, to] (the union of their runs). */
  const checkTime = (from: number, to: number): number => {
    const runs = checkRuns.filter(([a]) => a >= from && a <= to).sort((x, y) => x[0] - y[0]);
    let total = 0;
    let end = Number.NEGATIVE_INFINITY;
    for (const [a, b] of runs) {
      if (b > end) total += b - Math.max(a, end);
      end = Math.max(end, b);
    }
    return total;
  };

  const whole = async (
    network: Network,
    prompt: string,
    seed: number,
    validation: string,
  ): Promise<{ totalMs: number; checkMs: number }> => {
    const start = performance.now();
    mark(`c.start ${validation} whole`);
    const response = await post(network, { messages: [{ role: 'user', content: prompt }], seed, validation });
    await response.json();
    mark('c.end');
    const end = performance.now();
    return { totalMs: end - start, checkMs: checkTime(start, end) };
  };

  const nodePids = childPids();
  try {
    // Warm-up: each node loads and runs once.
    for (const { network } of networks)
      for (let i = 0; i < 3; i++) await whole(network, `warm ${i}`, i, 'none');
    // VS_SEASON=n: n checked requests first (`checksum`, short), so the nodes that get them earn a record: the
    // network as it is once settled (a trusted worker needs one validator and is audited at the floor),
    // not fresh as `up` leaves it.
    const season = Number(process.env.VS_SEASON ?? 0);
    for (const { network } of networks)
      for (let i = 0; i < season; i++)
        await post(network, {
          messages: [{ role: 'user', content: `season ${i}` }],
          seed: i,
          max_tokens: 8,
          validation: 'checksum',
        }).then((r) => r.json());
    const samples = new Map<string, Sample[]>();
    const likelihoodCost = new Map<
      string,
      { chunkCalls: number[]; chunkTokens: number[]; finalTokens: number[] }
    >();
    const plain = new Map<string, { totalMs: number; checkMs: number }[]>();
    const push = <T>(map: Map<string, T[]>, key: string, value: T) =>
      map.set(key, [...(map.get(key) ?? []), value]);
    const loads: number[] = [loadavg()[0] ?? 0];
    for (let round = 0; round < rounds; round++) {
      // Interleaved, each level in turn (and each network), so load on the shared machine falls on all alike.
      for (const level of LEVELS) {
        for (const { label, network } of networks) {
          const cost = network.router.services.verification.cost;
          const before = { ...cost };
          push(
            samples,
            label + level,
            await streamed(network, `stream ${round} ${level}`, 100 + round, level),
          );
          if (level !== 'likelihood') continue;
          const c = likelihoodCost.get(label) ?? { chunkCalls: [], chunkTokens: [], finalTokens: [] };
          c.chunkCalls.push(cost.streamChecks - before.streamChecks);
          c.chunkTokens.push(cost.streamTokens - before.streamTokens);
          c.finalTokens.push(cost.checkTokens - before.checkTokens);
          likelihoodCost.set(label, c);
        }
      }
      for (const level of ['none', 'checksum', ...(LEVELS.includes('likelihood') ? ['likelihood'] : [])])
        for (const { label, network } of networks)
          push(plain, label + level, await whole(network, `whole ${round} ${level}`, 200 + round, level));
      loads.push(loadavg()[0] ?? 0);
    }
    const figures: Record<string, unknown> = {};
    for (const { label } of networks) {
      const none = samples.get(`${label}none`) ?? [];
      for (const level of LEVELS) {
        const s = samples.get(label + level) as Sample[];
        const ttft = median(s.map((x) => x.ttftMs));
        const total = median(s.map((x) => x.totalMs));
        figures[label + level] = {
          ttftP50Ms: round1(ttft),
          ttftRange: [
            round1(Math.min(...s.map((x) => x.ttftMs))),
            round1(Math.max(...s.map((x) => x.ttftMs))),
          ],
          totalP50Ms: round1(total),
          chunksPer32Tokens: round2(median(s.map((x) => (x.chunks * 32) / Math.max(x.tokens, 1)))),
          tokensP50: median(s.map((x) => x.tokens)),
          streamed: [...new Set(s.map((x) => x.streamed))],
          ttftVsNone: round2(ttft / median(none.map((x) => x.ttftMs))),
          totalVsNone: round2(total / median(none.map((x) => x.totalMs))),
          // CPU per request (means): on 2 cores, (nodes + router) / 2 is the least wall time it can take.
          nodesCpuMs: round1(mean(s.map((x) => x.nodesCpuMs))),
          routerCpuMs: round1(mean(s.map((x) => x.routerCpuMs))),
        };
      }
      // The validators' work per streamed answer: chunk checks plus the final check (which, since the
      // sessions change, scores only what the chunk checks did not).
      const c = likelihoodCost.get(label);
      if (c) {
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        figures[`${label}likelihoodValidatorCost`] = {
          chunkScoreCallsP50: median(c.chunkCalls),
          chunkTokensP50: median(c.chunkTokens),
          finalCheckTokensP50: median(c.finalTokens),
          validatorTokensPerAnswerP50: median(c.chunkTokens.map((x, i) => x + (c.finalTokens[i] ?? 0))),
          chunkVsFinal: round2(sum(c.chunkTokens) / Math.max(1, sum(c.finalTokens))),
        };
      }
      // Without streaming: total against the worker alone (`none`) and against the worker and then its
      // checks in a row (`none` plus how long the checks ran, as measured here beside the worker).
      const none2 = median((plain.get(`${label}none`) ?? []).map((x) => x.totalMs));
      figures[`${label}nonStreaming`] = Object.fromEntries(
        [...plain.entries()]
          .filter(([key]) => key.startsWith(label) && (label !== '' || !key.startsWith('compare ')))
          .map(([key, xs]) => {
            const total = median(xs.map((x) => x.totalMs));
            const check = median(xs.map((x) => x.checkMs));
            return [
              key.slice(label.length),
              {
                p50Ms: round1(total),
                vsNone: round2(total / none2),
                checkP50Ms: round1(check),
                vsWorkerPlusCheck: round2(total / (none2 + check)),
              },
            ];
          }),
      );
    }
    figures.loadAverage1m = { min: round2(Math.min(...loads)), max: round2(Math.max(...loads)) };
    figures.compare = compare ?? null;
    figures.rounds = rounds;
    figures.season = season;
    figures.maxTokens = maxTokens;
    return figures;
  } finally {
    for (const { network } of networks) await network.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
