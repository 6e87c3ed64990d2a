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
 * colluding validator passes), ADV_STREAM (0; 1 streams every answer: what counts is the text that reached the
 * client), ADV_KEEP (keep the scratch folder: router database, cheaters' logs).
 *
 * Its parts: bench/adversarial/network.ts starts the processes (through bench/sim/processes.ts, as the e2e
 * harness does), bench/adversarial/scenario.ts says which cheaters run in which shifts and what is asked,
 * bench/adversarial/analysis.ts turns the run into figures. This file runs them in order.
 */
import { analyze } from './adversarial/analysis.js';
import { startNetwork } from './adversarial/network.js';
import { type Answer, makeRequest, planShifts, send, unitsFor } from './adversarial/scenario.js';

export { makeRequest } from './adversarial/scenario.js';

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
  /** Clients stream every answer (verified streaming: only checked text reaches them). */
  stream?: boolean;
};

const envNumber = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

export async function adversarialBench(options: AdversarialOptions = {}): Promise<Record<string, unknown>> {
  const requests = options.requests ?? envNumber('ADV_REQUESTS') ?? 8000;
  const share = options.share ?? envNumber('ADV_SHARE') ?? 0.3;
  const honestCount = options.honest ?? envNumber('ADV_HONEST') ?? 3;
  // More clients than workers keeps every worker busy (a loaded network); with fewer, the scheduler's
  // preference for reputable nodes starves the cheaters of work.
  const concurrency = options.concurrency ?? envNumber('ADV_CONCURRENCY') ?? 8;
  const sybil = options.sybil ?? (envNumber('ADV_SYBIL') ?? 0) !== 0;
  const stream = options.stream ?? (envNumber('ADV_STREAM') ?? 0) !== 0;
  const units = unitsFor(sybil);
  const maxTokens = options.maxTokens ?? envNumber('ADV_MAX_TOKENS') ?? 24;
  const withCost = options.measureLikelihoodCost ?? (envNumber('ADV_COST') ?? 1) !== 0;
  const log = (text: string) => process.stderr.write(`  adversarial: ${text}\n`);
  const started = performance.now();

  const net = await startNetwork({ honestCount, log });
  const { url, apiKey } = net;

  // Shifts: cheater units packed so that about `share` of the workers cheat at any time.
  const honestLooking = honestCount + 1;
  const perShift = Math.max(1, Math.round((share / (1 - share)) * honestLooking));
  const shifts = planShifts(units, perShift);
  log(
    `${shifts.length} shifts of ${Math.ceil(requests / shifts.length)} requests, ${perShift} cheater(s) at a time: ${shifts
      .map((s) => [...s.units.map((u) => u.name), ...(s.sleeperTurns ? ['sleeper'] : [])].join(' + '))
      .join(' | ')}`,
  );

  // Every cheater is spawned now (loading takes seconds on a busy machine) and connects when its shift begins.
  const { beginShift, unitOf } = await net.prepareShifts(shifts);

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
      const answer = await send(url, apiKey, makeRequest(index, maxTokens), stream);
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

  const reputation = await net.reputation();
  const routerWarnings = await net.stop();

  const figures = await analyze({
    ...net,
    honestCount,
    unitOf,
    shifts,
    perShift,
    honestLooking,
    answers,
    requests,
    concurrency,
    maxTokens,
    stream,
    loadSeconds,
    loadStartAt,
    reputation,
    routerWarnings,
    judgeRequests: options.judgeRequests ?? envNumber('ADV_JUDGE') ?? 3000,
    withCost,
    started,
    log,
  });
  if (process.env.ADV_KEEP) log(`kept ${net.dir}`);
  else net.remove();
  return figures;
}
