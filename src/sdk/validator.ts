import { type Fingerprint, fingerprintOf, nearness } from '../data/near/fingerprint.js';
import {
  type BatchItemView,
  type DataBatchView,
  type JsonSchema,
  OmniError,
  type ReviewSubmitView,
  schemaError,
} from '../protocol/index.js';
import { CampaignClient } from './campaigns.js';

/** A batch as `getDataBatch` returns it: the router's batch, with the campaign (task) it came from. */
export type DataBatch = DataBatchView & { taskId: string };
export type DataItem = BatchItemView;

/** One automatic check's outcome on an item. */
export type CheckOutcome = { check: string; ok: boolean; reason?: string };

/** An automatic check: null when the item passes, else the reason it fails. */
export type DataCheck = {
  name: string;
  run(item: DataItem, batch: DataBatch, seen: NearDuplicates): string | null | Promise<string | null>;
};

/**
 * The judgment: what a person or a program decides after the checks. Label and rating campaigns
 * (`batch.question`) take a `label` or a `rating` with an accept; either alone implies accept.
 */
export type Judgment = {
  verdict?: 'accept' | 'reject';
  label?: string;
  rating?: number;
  reasons?: string[];
  flag?: boolean;
};
export type Judge = (
  item: DataItem,
  checks: CheckOutcome[],
  batch: DataBatch,
) => Judgment | Promise<Judgment>;

/** What `submitResults` sends: one verdict per item (`flag` asks for a second round). */
export type ValidationResult = {
  taskId: string;
  id: string;
  verdict: 'accept' | 'reject';
  /** Label campaigns: one of the campaign's labels; rating campaigns: a whole number on its scale. */
  label?: string;
  rating?: number;
  reasons?: string[];
  flag?: boolean;
  checks?: CheckOutcome[];
};

export type ValidatorOptions = {
  /** The router, e.g. `http://127.0.0.1:8080`. */
  router: string;
  apiKey?: string;
  /** The automatic checks (default: format, schema, empty, near-duplicate, size). */
  checks?: DataCheck[];
  /** Decides each item; default: reject with the failed checks' reasons, else accept. */
  judge?: Judge;
  fetch?: typeof fetch;
};

/**
 * Items seen across a reviewer's batches, to spot near-duplicates by the router's own rules (kept bounded):
 * texts by MinHash of word 3-grams, PNG and JPEG pictures by a perceptual hash of their pixels. The functions
 * are the router's (src/data/near/fingerprint.ts, imported directly: the data subsystem's face would bring
 * the router's SQLite store into the SDK).
 */
export class NearDuplicates {
  readonly #recent: { id: string; fingerprint: Fingerprint }[] = [];
  /** Fetches a media item's bytes (the Validator sets it to read them from the router). */
  load: ((item: DataItem, batch: DataBatch) => Promise<Buffer>) | null = null;
  constructor(readonly keep = 2000) {}

  /** The id of an earlier item nearly the same as this fingerprint, then remembers this one. */
  checkFingerprint(id: string, fingerprint: Fingerprint): string | null {
    const match = this.#recent.find((r) => r.id !== id && nearness(fingerprint, r.fingerprint) !== null);
    if (!this.#recent.some((r) => r.id === id)) this.#recent.push({ id, fingerprint });
    if (this.#recent.length > this.keep) this.#recent.shift();
    return match?.id ?? null;
  }

  /** The id of an earlier text nearly the same, then remembers this one. */
  check(id: string, text: string): string | null {
    return this.checkFingerprint(
      id,
      fingerprintOf('text', 'utf-8', Buffer.from(text, 'utf8')) as Fingerprint,
    );
  }

  /** A batch item: its text, or a picture's bytes when `load` can fetch them; null when not comparable. */
  async checkItem(item: DataItem, batch: DataBatch): Promise<string | null> {
    if (item.text !== null) return this.check(item.id, item.text);
    if (item.kind !== 'image' || !this.load) return null;
    const fingerprint = fingerprintOf(item.kind, item.format, await this.load(item, batch));
    return fingerprint && this.checkFingerprint(item.id, fingerprint);
  }
}

const MEDIA: Record<string, string[]> = {
  image: ['png', 'jpeg', 'gif', 'webp'],
  audio: ['wav', 'mp3', 'ogg', 'flac'],
  video: ['mp4', 'webm'],
  text: ['utf-8'],
  jsonl: ['json'],
};

/** The default checks the issue names: format, schema, empty, near-duplicate, size. */
export const defaultChecks: DataCheck[] = [
  {
    name: 'format',
    run: (item, batch) =>
      item.kind !== batch.kind || !MEDIA[batch.kind]?.includes(item.format)
        ? `a ${item.kind}/${item.format} item in a ${batch.kind} campaign`
        : null,
  },
  {
    name: 'schema',
    run: (item, batch) => {
      if (batch.kind !== 'jsonl' || item.text === null) return null;
      try {
        return schemaError((batch.schema ?? {}) as JsonSchema, JSON.parse(item.text));
      } catch {
        return 'not valid JSON';
      }
    },
  },
  {
    name: 'empty',
    run: (item) => (item.size === 0 || (item.text !== null && item.text.trim() === '') ? 'empty' : null),
  },
  {
    name: 'near-duplicate',
    run: async (item, batch, seen) => {
      const match = await seen.checkItem(item, batch);
      return match ? `nearly the same ${item.text === null ? 'picture' : 'text'} as item ${match}` : null;
    },
  },
  {
    name: 'size',
    run: (item, batch) =>
      item.size > batch.max_bytes ? `${item.size} bytes is over ${batch.max_bytes}` : null,
  },
];

const byChecks: Judge = (_item, checks) => {
  const failed = checks.filter((c) => !c.ok);
  return failed.length === 0
    ? { verdict: 'accept' }
    : { verdict: 'reject', reasons: failed.map((c) => `${c.check}: ${c.reason}`) };
};

/**
 * The seed's validator workflow, in TypeScript:
 * `const v = new Validator({ router, apiKey }); const batch = await v.getDataBatch(taskId);
 *  const results = await v.validate(batch); await v.submitResults(results);`
 * `validate` runs the automatic checks and leaves the judgment to `judge` (a person's answers or a program).
 */
export class Validator {
  readonly client: CampaignClient;
  readonly #checks: DataCheck[];
  readonly #judge: Judge;
  readonly #seen = new NearDuplicates();

  constructor(options: ValidatorOptions) {
    if (!options?.router) throw new OmniError('missing_router', 'Validator needs `router`, the router URL.');
    this.client = new CampaignClient({
      baseUrl: options.router,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#checks = options.checks ?? defaultChecks;
    this.#seen.load = async (item, batch) =>
      Buffer.from(await (await this.client.content(batch.taskId, item.id)).arrayBuffer());
    this.#judge = options.judge ?? byChecks;
  }

  /** Leases a batch of the campaign's items to this reviewer (`taskId` is the campaign id). */
  async getDataBatch(
    taskId: string,
    options: { size?: number; signal?: AbortSignal } = {},
  ): Promise<DataBatch> {
    const batch = await this.client.batch(taskId, options.size, options.signal);
    return { ...batch, taskId };
  }

  /** Runs the checks on every item and asks the judge; returns one result per item, ready to submit. */
  async validate(batch: DataBatch, options: { judge?: Judge } = {}): Promise<ValidationResult[]> {
    const judge = options.judge ?? this.#judge;
    const results: ValidationResult[] = [];
    for (const item of batch.items) {
      const checks: CheckOutcome[] = [];
      for (const check of this.#checks) {
        const reason = await check.run(item, batch, this.#seen);
        checks.push(
          reason === null ? { check: check.name, ok: true } : { check: check.name, ok: false, reason },
        );
      }
      const j = await judge(item, checks, batch);
      if (j.verdict === undefined && j.label === undefined && j.rating === undefined)
        throw new OmniError(
          'invalid_judgment',
          `The judge gave item ${item.id} no verdict, label or rating.`,
        );
      results.push({
        taskId: batch.taskId,
        id: item.id,
        verdict: j.verdict ?? 'accept',
        ...(j.label !== undefined ? { label: j.label } : {}),
        ...(j.rating !== undefined ? { rating: j.rating } : {}),
        checks,
        ...(j.reasons ? { reasons: j.reasons } : {}),
        ...(j.flag ? { flag: true } : {}),
      });
    }
    return results;
  }

  /** Sends the verdicts, one request per campaign; returns the router's answers. */
  async submitResults(results: ValidationResult[], signal?: AbortSignal): Promise<ReviewSubmitView[]> {
    const byTask = new Map<string, ValidationResult[]>();
    for (const r of results) byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r]);
    const answers: ReviewSubmitView[] = [];
    for (const [taskId, list] of byTask)
      answers.push(
        await this.client.submitReviews(
          taskId,
          list.map((r) => ({
            item_id: r.id,
            verdict: r.verdict,
            ...(r.label !== undefined ? { label: r.label } : {}),
            ...(r.rating !== undefined ? { rating: r.rating } : {}),
            ...(r.reasons ? { reasons: r.reasons } : {}),
            ...(r.flag ? { flag: true } : {}),
          })),
          signal,
        ),
      );
    return answers;
  }
}
