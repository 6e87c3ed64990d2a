/**
 * The adversarial bench's analysis, after the network has stopped: from the answers, the router's
 * database and the cheaters' logs, the three figures (cheats delivered undetected, honest results flagged,
 * verification cost) and what explains them. It recomputes honest references with src/engine.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  createLlamaEngine,
  type GenerateParams,
  type LoadedModel,
  type ScoreInput,
} from '../../src/engine/index.js';
import {
  AUTO_POLICY_DEFAULTS,
  checkRate,
  EMPTY_RECORD,
  isTrusted,
  judgeLikelihood,
  type ReputationRecord,
  recordVerdict,
} from '../../src/verify/index.js';
import { measureCost } from '../likelihood-cost.js';
import type { NodeRole } from './network.js';
import { type Answer, EXTRA_KINDS, type Mode, makeRequest, type Request, type Shift } from './scenario.js';

const ratio = (a: number, b: number, digits = 5) => (b === 0 ? null : Number((a / b).toFixed(digits)));

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

/** What the run left to analyse. */
export type RunRecord = {
  dir: string;
  models: { claimed: string };
  routerData: string;
  roles: Map<string, NodeRole>;
  wallets: Map<string, string>;
  /** The cheaters' logs (JSON lines). */
  records: string[];
  honestIds: string[];
  honestCount: number;
  unitOf: Map<string, string>;
  shifts: Shift[];
  perShift: number;
  honestLooking: number;
  answers: Answer[];
  requests: number;
  concurrency: number;
  maxTokens: number;
  /** Whether clients streamed every answer (ADV_STREAM). */
  stream: boolean;
  loadSeconds: number;
  loadStartAt: number;
  reputation: Record<string, unknown>;
  routerWarnings: string[];
  judgeRequests: number;
  withCost: boolean;
  started: number;
  log: (text: string) => void;
};

/** The bench's figures (bench/results/adversarial.json), from a finished run. */
export async function analyze(run: RunRecord): Promise<Record<string, unknown>> {
  const { dir, models, routerData, roles, wallets, records, honestIds, honestCount, unitOf, shifts } = run;
  const { perShift, honestLooking, answers, requests, concurrency, maxTokens, stream, loadSeconds } = run;
  const { loadStartAt } = run;
  const { reputation, routerWarnings, judgeRequests, withCost, started, log } = run;
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
  const checkTasks: (TaskRow & { of: string; attempt: number; audit: boolean })[] = [];
  for (const t of tasks) {
    const key = t.idempotency_key ?? '';
    if (key.startsWith('check:')) {
      const [, of, attempt] = key.split(':');
      // The router's own audits (check:audit-<task>:...) count against the task they audited.
      const audit = (of as string).startsWith('audit-');
      checkTasks.push({ ...t, of: (of as string).replace(/^audit-/, ''), attempt: Number(attempt), audit });
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
  /** The router's own audits of explicit `likelihood`/`embedding` results (src/verify/audit.ts), all phases. */
  const audits = { tasks: 0, tokens: 0, ofHonestAtFloor: 0, ofHonestAtFloorTokens: 0 };
  for (const check of checkTasks) {
    const task = userTasks.get(check.of);
    if (!task) continue;
    const phase = phaseOf(task.created_at);
    const tokens = tokensOf(results.get(check.id));
    network[phase].check += tokens;
    network[phase].checks++;
    const result = results.get(check.of);
    if (check.audit) {
      audits.tasks++;
      audits.tokens += tokens;
      if (phase === 'floor' && result?.attempt === check.attempt && isHonest(result.node_id)) {
        audits.ofHonestAtFloor++;
        audits.ofHonestAtFloorTokens += tokens;
      }
    }
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
  const extras = EXTRA_KINDS;
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
      streamed: stream,
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
      routerAudits: {
        note: "the router's audits of explicit `likelihood`/`embedding` results (seeded replicas, src/verify/audit.ts): not in the `auto` figure above, in honestAllLevels and network; the share is over the honest floor phase's useful tokens of all levels",
        ...audits,
        ofHonestAtFloorOverUseful: ratio(audits.ofHonestAtFloorTokens, honestAll.floor.useful, 4),
      },
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
