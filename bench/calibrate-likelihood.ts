/**
 * Calibrates the `likelihood` and `embedding` thresholds on the tiny model and measures what a likelihood
 * check costs next to generating the same tokens again.
 *
 * The validator holds the claimed model: the tiny F32 model, seed 1. Honest nodes run that model (greedy
 * and sampled, alone and two requests batched together); cheaters return another seed's output, a Q8_0
 * copy's output claimed as the F32 model's, random vocabulary text, a truncated honest output (claimed as
 * `length` and as `stop`), or the honest answer to another prompt (replay). Every output is scored by the
 * validator (engine `score`) and judged; the script prints each case's distribution and pass rate under
 * the thresholds in src/verify/thresholds.ts, then the cost figures.
 *
 * Run: node --import tsx bench/calibrate-likelihood.ts [--prompts N] (writes bench/results/calibrate-likelihood.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLlamaEngine,
  type GenerateParams,
  type LoadedModel,
  type ScoreInput,
} from '../src/engine/index.js';
import { buildTinyVocab, mulberry32, TokenType, writeTinyModel } from '../src/models/index.js';
import {
  cosineSimilarity,
  type DecodingParams,
  EMBEDDING_THRESHOLD,
  judgeLikelihood,
  LIKELIHOOD_THRESHOLDS,
  type LikelihoodEvidence,
} from '../src/verify/index.js';
import { measureCost } from './likelihood-cost.js';

type Sample = {
  /** For a wrong model's output: whether its text differs from the honest answer (else it did no harm). */
  differs?: boolean;
  case: string;
  honest: boolean;
  mode: 'greedy' | 'sampled';
  pass: boolean;
  evidence: LikelihoodEvidence;
};

const MAX_TOKENS = 48;
const SAMPLED: Array<Pick<GenerateParams, 'temperature' | 'topP'>> = [
  { temperature: 0.7, topP: 0.9 },
  { temperature: 1, topP: 1 },
];

const vocab = buildTinyVocab();
const WORDS = vocab.tokens.filter((t, i) => vocab.types[i] === TokenType.NORMAL && t.startsWith('\u2581'));

function makePrompts(count: number): ScoreInput[] {
  const rand = mulberry32(4242);
  const pick = (): string => (WORDS[Math.floor(rand() * WORDS.length)] as string).replace('\u2581', ' ');
  const sentence = (n: number): string => Array.from({ length: n }, pick).join('').trim();
  return Array.from({ length: count }, (_, i) =>
    i % 4 === 3
      ? { messages: [{ role: 'user' as const, content: sentence(3 + (i % 5)) }] }
      : { prompt: sentence(2 + (i % 6)) },
  );
}

/** Random text from the vocabulary, about as long as an output of `tokens` tokens. */
function randomText(rand: () => number, tokens: number): string {
  const normal = vocab.tokens.filter((_, i) => vocab.types[i] === TokenType.NORMAL);
  return Array.from({ length: tokens }, () => normal[Math.floor(rand() * normal.length)] as string)
    .join('')
    .replaceAll('\u2581', ' ');
}

async function generate(model: LoadedModel, input: ScoreInput, params: GenerateParams) {
  return 'messages' in input
    ? model.chat(input.messages, params, () => {})
    : model.complete(input.prompt, params, () => {});
}

function quantiles(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  const f = (v: number) =>
    Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v);
  return `min ${f(s[0] as number)}  p10 ${f(q(0.1))}  p50 ${f(q(0.5))}  p90 ${f(q(0.9))}  max ${f(s.at(-1) as number)}`;
}

/** Runs the calibration and the cost measurement; returns the figures for bench/results. */
export async function calibrateLikelihoodBench(
  options: { prompts?: number } = {},
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'omni-calibrate-'));
  const engine = await createLlamaEngine({ gpu: false, logLevel: 'error' });
  try {
    const paths = { f1: join(dir, 'f1.gguf'), q1: join(dir, 'q1.gguf'), f2: join(dir, 'f2.gguf') };
    await writeTinyModel(paths.f1, { seed: 1, type: 'f32' });
    await writeTinyModel(paths.q1, { seed: 1, type: 'q8_0' });
    await writeTinyModel(paths.f2, { seed: 2, type: 'f32' });
    const load = (path: string, slots = 1) => engine.loadModel(path, { threads: 1, slots, contextSize: 512 });
    const validator = await load(paths.f1);
    const honest = await load(paths.f1, 2);
    const q8 = await load(paths.q1);
    const other = await load(paths.f2);

    const prompts = makePrompts(options.prompts ?? 48);
    const rand = mulberry32(99);
    const samples: Sample[] = [];
    const cosines: Record<string, number[]> = {};
    const judge = async (
      name: string,
      isHonest: boolean,
      input: ScoreInput,
      text: string,
      params: DecodingParams,
      claim: { finishReason: 'stop' | 'length'; completionTokens: number },
      differs?: boolean,
    ) => {
      const scores = await validator.score(input, text, { stop: params.stop });
      const j = judgeLikelihood({ scores, params, claim });
      samples.push({
        case: name,
        honest: isHonest,
        mode: j.evidence.mode,
        pass: j.outcome === 'pass',
        evidence: j.evidence,
        ...(differs === undefined ? {} : { differs }),
      });
    };

    for (const [i, input] of prompts.entries()) {
      const configs: GenerateParams[] = [
        { maxTokens: MAX_TOKENS, temperature: 0, topP: 1, stop: [] },
        ...SAMPLED.map((s) => ({ maxTokens: MAX_TOKENS, ...s, seed: 1000 + i, stop: [] })),
      ];
      for (const params of configs) {
        const mode = params.temperature === 0 ? 'greedy' : 'sampled';
        const [alone, batched] = await Promise.all([
          generate(honest, input, params),
          // A second request in the same batch: honest nodes run several slots at once.
          generate(honest, prompts[(i + 1) % prompts.length] as ScoreInput, params),
        ]);
        const batchedHere = (
          await Promise.all([generate(honest, input, params), generate(honest, input, params)])
        )[1];
        const claim = (r: { finishReason: 'stop' | 'length'; completionTokens: number }) => ({
          finishReason: r.finishReason,
          completionTokens: r.completionTokens,
        });
        await judge(`honest ${mode}`, true, input, alone.text, params, claim(alone));
        await judge(`honest ${mode} (batched)`, true, input, batchedHere.text, params, claim(batchedHere));
        // A stop string taken from the honest output: the honest answer ends right before it.
        const cut = 4 + (i % 9);
        const stop = alone.text.slice(cut, cut + 3);
        if (stop.length === 3) {
          const stopped = await generate(honest, input, { ...params, stop: [stop] });
          await judge(
            `honest ${mode} + stop`,
            true,
            input,
            stopped.text,
            { ...params, stop: [stop] },
            claim(stopped),
          );
          const short = stopped.text.slice(0, Math.floor(stopped.text.length / 2));
          if (short.length < stopped.text.length) {
            await judge(
              `truncated ${mode} (stop)`,
              false,
              input,
              short,
              { ...params, stop: [stop] },
              claim(stopped),
            );
          }
        }
        const q = await generate(q8, input, params);
        await judge(`q8_0 as f32 ${mode}`, false, input, q.text, params, claim(q), q.text !== alone.text);
        const o = await generate(other, input, params);
        await judge(`other seed ${mode}`, false, input, o.text, params, claim(o));
        await judge(`random text ${mode}`, false, input, randomText(rand, MAX_TOKENS), params, claim(alone));
        const half = alone.text.slice(0, Math.floor(alone.text.length / 2));
        await judge(`truncated ${mode} (length)`, false, input, half, params, claim(alone));
        await judge(`truncated ${mode} (stop)`, false, input, half, params, {
          ...claim(alone),
          finishReason: 'stop',
        });
        // Another prompt's answer; when it is word for word this prompt's own answer it is no cheat.
        if (batched.text !== alone.text) {
          await judge(`replay ${mode}`, false, input, batched.text, params, claim(batched));
        }

        if (mode === 'greedy' || params.temperature === 1) {
          // Embeddings: each output against the validator's own answer, embedded by the validator's model.
          const reference = alone.text;
          const texts: Record<string, string> = {
            [`honest ${mode} (batched)`]: batchedHere.text,
            [`q8_0 as f32 ${mode}`]: q.text,
            [`other seed ${mode}`]: o.text,
            [`random text ${mode}`]: randomText(rand, MAX_TOKENS),
            [`truncated ${mode}`]: half,
            [`replay ${mode}`]: batched.text,
          };
          if (mode === 'sampled') {
            const resampled = await generate(honest, input, { ...params, seed: 5000 + i });
            texts['honest sampled (other seed)'] = resampled.text;
          }
          const names = Object.keys(texts);
          const { vectors } = await validator.embed([reference, ...names.map((n) => texts[n] as string)]);
          names.forEach((n, k) => {
            const c = cosineSimilarity(vectors[0] as number[], vectors[k + 1] as number[]);
            cosines[n] ??= [];
            cosines[n].push(c);
          });
        }
      }
    }

    const report = reportLikelihood(samples);
    const embedding = reportEmbedding(cosines);
    const cost = await measureCost(engine, validator, prompts, dir);
    process.stdout.write(`\ncost: ${JSON.stringify(cost, null, 2)}\n`);
    return { thresholds: LIKELIHOOD_THRESHOLDS, ...report, embedding, cost };
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const MARGINS = [1e-4, 1e-3, 1e-2, 0.1, 0.5, 1];
const EMBEDDING_CANDIDATES = [0.8, 0.9, 0.95, 0.99];

const share = (list: Sample[], pred: (s: Sample) => boolean) =>
  Number((list.filter(pred).length / Math.max(1, list.length)).toFixed(4));

/** Prints each case's distribution and pass rate, then the summary the thresholds were chosen from. */
function reportLikelihood(samples: Sample[]) {
  const byCase = new Map<string, Sample[]>();
  for (const s of samples) byCase.set(s.case, [...(byCase.get(s.case) ?? []), s]);
  const cases: Record<string, unknown> = {};
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\nlikelihood, thresholds ${JSON.stringify(LIKELIHOOD_THRESHOLDS)}`);
  out(`greedy cases: share of outputs whose largest gap to the top token exceeds m logits`);
  out(`${'case'.padEnd(30)} ${MARGINS.map((m) => `>${m}`.padStart(8)).join('')}`);
  for (const [name, list] of byCase) {
    if (list[0]?.mode !== 'greedy') continue;
    out(
      `${name.padEnd(30)} ${MARGINS.map((m) => String(share(list, (s) => s.evidence.maxGap > m)).padStart(8)).join('')}`,
    );
  }
  out(
    '\nper case: pass rate under the thresholds, figure (greedy: largest gap; sampled: z), violation share',
  );
  for (const [name, list] of byCase) {
    const greedy = list[0]?.mode === 'greedy';
    const figure = greedy
      ? list.map((s) => s.evidence.maxGap)
      : list.flatMap((s) => (s.evidence.z === null ? [] : [s.evidence.z]));
    const violations = list.map((s) => s.evidence.violations / Math.max(1, s.evidence.tokens));
    const endFails = list.filter((s) => !s.evidence.endOk).length;
    const passRate = share(list, (s) => s.pass);
    cases[name] = {
      n: list.length,
      passRate,
      figure: quantiles(figure),
      violationShare: quantiles(violations),
      endFails,
    };
    out(
      `${name.padEnd(30)} n ${String(list.length).padStart(3)}  pass ${(passRate * 100).toFixed(1).padStart(5)}%  ` +
        `${greedy ? 'gap' : 'z'}: ${quantiles(figure)} | viol: ${quantiles(violations)} | end fails ${endFails}`,
    );
  }
  const honest = samples.filter((s) => s.honest);
  const cheats = samples.filter((s) => !s.honest && !s.case.startsWith('q8_0'));
  const q8 = (mode: string) => samples.filter((s) => s.case.startsWith('q8_0') && s.mode === mode);
  const honestLength = honest.filter((s) => s.evidence.tokens > 0 && !s.case.includes('stop'));
  const summary = {
    honestFlagged: share(honest, (s) => !s.pass),
    honestN: honest.length,
    honestLargestGap: Math.max(...honest.filter((s) => s.mode === 'greedy').map((s) => s.evidence.maxGap)),
    honestLowestZ: Math.min(...honest.flatMap((s) => (s.evidence.z === null ? [] : [s.evidence.z]))),
    honestMostViolations: Math.max(...honest.map((s) => s.evidence.violations)),
    honestLargestCountDelta: Math.max(...honestLength.map((s) => Math.abs(s.evidence.tokens - MAX_TOKENS))),
    cheatsPassed: share(cheats, (s) => s.pass),
    cheatsN: cheats.length,
    q8Greedy: {
      n: q8('greedy').length,
      differFromHonest: share(q8('greedy'), (s) => s.differs === true),
      caughtAmongDiffering: share(
        q8('greedy').filter((s) => s.differs),
        (s) => !s.pass,
      ),
    },
    q8Sampled: {
      n: q8('sampled').length,
      differFromHonest: share(q8('sampled'), (s) => s.differs === true),
      caughtAmongDiffering: share(
        q8('sampled').filter((s) => s.differs),
        (s) => !s.pass,
      ),
    },
  };
  out(`\n${JSON.stringify(summary, null, 2)}`);
  return { summary, cases };
}

/** Prints cosine distributions and pass rates at candidate thresholds. */
function reportEmbedding(cosines: Record<string, number[]>) {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\nembedding: cosine to the validator's own answer; pass rate at ${EMBEDDING_CANDIDATES.join(' / ')}`);
  const table: Record<string, unknown> = {};
  for (const [name, list] of Object.entries(cosines)) {
    const rates = EMBEDDING_CANDIDATES.map((t) => list.filter((c) => c >= t).length / list.length);
    table[name] = {
      cosine: quantiles(list),
      passAt: Object.fromEntries(EMBEDDING_CANDIDATES.map((t, k) => [t, rates[k]])),
    };
    out(
      `${name.padEnd(30)} ${quantiles(list)} | ${rates.map((r) => `${(r * 100).toFixed(0)}%`.padStart(5)).join('')}`,
    );
  }
  out(`(threshold in use: ${EMBEDDING_THRESHOLD})`);
  return table;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--prompts');
  const figures = await calibrateLikelihoodBench(at > 0 ? { prompts: Number(process.argv[at + 1]) } : {});
  const results = join(import.meta.dirname, 'results');
  mkdirSync(results, { recursive: true });
  const out = {
    ...figures,
    machine: `${process.platform} ${process.arch}, node ${process.version}`,
    at: new Date().toISOString(),
  };
  writeFileSync(join(results, 'calibrate-likelihood.json'), `${JSON.stringify(out, null, 2)}\n`);
}
