import { closeSync, openSync, readSync } from 'node:fs';
import { type Campaigns, type OpinionVerdict, PreReviewStore } from '../../data/index.js';
import { formatAmount, quote } from '../../ledger/index.js';
import { type ChatMessage, InvalidParameterError } from '../../protocol/index.js';
import type { RouterServices } from '../context.js';
import type { Logger } from '../log.js';
import { tokenBounds } from '../tasks/payment-quote.js';
import { taskRequest } from './requests.js';

/** Pre-review tasks in flight at once (the rest wait in the router, their rows pending). */
const MAX_RUNNING = 8;
/** The model's answer: a verdict word and a short reason. More is paid for and not read. */
const MAX_TOKENS = 24;
/** What of the campaign's instructions and of the item the prompt carries (UTF-8 bytes). */
const INSTRUCTIONS_BYTES = 400;
const ITEM_BYTES = 1200;

/** `text` cut to at most `max` UTF-8 bytes on a character boundary. */
function clip(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    used += Buffer.byteLength(ch, 'utf8');
    if (used > max) break;
    out += ch;
  }
  return out;
}

function messages(instructions: string, item: string): ChatMessage[] {
  return [
    {
      role: 'system',
      content: `You review data for a collection campaign. Its instructions: ${clip(instructions, INSTRUCTIONS_BYTES) || '(none)'}\nAnswer ACCEPT or REJECT, then one short reason.`,
    },
    { role: 'user', content: `Item:\n${clip(item, ITEM_BYTES)}` },
  ];
}

/** A stored item's first bytes as text (a long item is judged on its beginning). */
function head(path: string, max: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(max);
    return buffer.subarray(0, readSync(fd, buffer, 0, max, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The first verdict word in the model's answer; `unclear` when it says neither. */
export function verdictOf(answer: string): OpinionVerdict {
  const m = /\b(accept|reject)/i.exec(answer);
  return m ? ((m[1] as string).toLowerCase() as OpinionVerdict) : 'unclear';
}

/**
 * Machine pre-review (docs/data.md): a campaign that names a model gets, for each text item (gold items too,
 * so an opinion does not tell gold apart), one chat task through the network's own task path
 * (requests.ts and the task manager), run by a node like any user's request. The task's session is the
 * campaign, so payments hold and charge it from the campaign's escrow (`task:<id>:payment`, once); the item's
 * idempotency key makes a restart join the same task, never start a second. The opinion is stored for
 * reviewers to see; a failure is logged and stored, and the item stays in review.
 */
export class CampaignPreReview {
  readonly store: PreReviewStore;
  readonly #services: RouterServices;
  readonly #campaigns: Campaigns;
  readonly #log: Logger;
  /** Items waiting for their turn: a 10,000-line upload must not fill the task queue at once. */
  readonly #waiting: { campaign: string; item: string; live: boolean }[] = [];
  #running = 0;

  constructor(services: RouterServices, campaigns: Campaigns, log: Logger) {
    this.#services = services;
    this.#campaigns = campaigns;
    this.#log = log;
    this.store = new PreReviewStore(campaigns.store.db);
  }

  /** A new campaign's pre-review settings: the model must be registered; the hold is its task's most cost. */
  settingsFor(
    name: string,
    kind: string,
    instructions: string,
    keyId: string,
  ): { model: string; keyId: string; hold: string } {
    if (kind !== 'text' && kind !== 'jsonl')
      throw new InvalidParameterError(
        'prereview',
        'Only text and jsonl campaigns can be pre-reviewed by a model.',
      );
    const model = this.#services.models.resolve(name);
    if (!model)
      throw new InvalidParameterError(
        'prereview',
        `No model '${name}' on this network (GET /v1/models lists them).`,
      );
    // The campaign's own instructions and the longest item: the most any of its pre-reviews can hold.
    const widest = messages(instructions, 'x'.repeat(ITEM_BYTES));
    const output = Math.min(MAX_TOKENS, model.contextLength - 1);
    const bounds = tokenBounds(
      { kind: 'chat', messages: widest, params: paramsOf(output) },
      model.contextLength,
    );
    const hold = quote(this.#services.payments.price(model), bounds.prompt, bounds.output);
    return { model: name, keyId, hold: hold.toString() };
  }

  /** Starts the pre-review of these items (in the background: an upload does not wait for a model). */
  start(campaignId: string, itemIds: string[]): void {
    const model = this.#campaigns.store.campaign(campaignId)?.settings.prereview?.model;
    if (!model) return;
    // The rows first, in one transaction: the items show a pending opinion at once, and a restart finds them.
    this.#campaigns.store.db.transaction(() => {
      for (const item of itemIds)
        if (this.store.begin(item, campaignId, model, this.#campaigns.now()))
          this.#waiting.push({ campaign: campaignId, item, live: true });
    })();
    this.#pump();
  }

  /** Runs waiting pre-reviews, at most MAX_RUNNING at a time. */
  #pump(): void {
    while (this.#running < MAX_RUNNING) {
      const next = this.#waiting.shift();
      if (!next) return;
      this.#running += 1;
      void this.#run(next.campaign, next.item, next.live).finally(() => {
        this.#running -= 1;
        this.#pump();
      });
    }
  }

  /**
   * After a restart (call after the task manager's recover): a pre-review whose task was accepted waits for
   * that task (queued again by the task manager, or already finished); one that crashed before its task was
   * accepted asks again under the same idempotency key, waiting for a node rather than failing at once.
   */
  resume(): number {
    const pending = this.store.pending();
    for (const p of pending)
      if (p.taskId === null) this.#waiting.push({ campaign: p.campaign, item: p.item, live: false });
      else void this.#finish(p.item, p.taskId);
    this.#pump();
    return pending.length;
  }

  async #run(campaignId: string, itemId: string, live: boolean): Promise<void> {
    const campaign = this.#campaigns.store.campaign(campaignId);
    const settings = campaign?.settings.prereview;
    const item = this.#campaigns.store.item(itemId);
    if (!campaign || !settings || !item) return;
    let taskId: string;
    try {
      const text = head(this.#campaigns.blobs.pathOf(item.sha256), ITEM_BYTES * 2);
      const body = {
        model: settings.model,
        messages: messages(campaign.settings.instructions, text),
        max_tokens: MAX_TOKENS,
        temperature: 0,
        seed: 1,
        validation: 'none',
      };
      const who = { keyId: settings.keyId, keyValidation: null };
      const job = taskRequest(this.#services, who, '/v1/chat/completions', body, { live });
      const handle = this.#services.tasks.submit({
        keyId: settings.keyId,
        // The campaign's escrow is the task's budget: payments hold and charge it there.
        sessionId: campaign.id,
        idempotencyKey: `prereview:${item.id}`,
        model: job.model,
        input: job.input,
        validation: job.validation,
      });
      taskId = handle.record.id;
      this.store.started(item.id, taskId);
    } catch (error) {
      this.#failed(item.id, error);
      return;
    }
    await this.#finish(item.id, taskId);
  }

  /** Waits for the item's task (running, or finished before a restart) and stores its opinion. */
  async #finish(itemId: string, taskId: string): Promise<void> {
    try {
      const handle = this.#services.tasks.handle(taskId);
      const result = handle ? await handle.result : this.#services.taskStore.result(taskId);
      if (!result) {
        const task = this.#services.taskStore.get(taskId);
        throw new Error(task?.error?.message ?? `task ${taskId} ended without a result`);
      }
      const answer = result.output.text ?? '';
      const paid = this.#services.ledger
        .entry(`task:${taskId}:payment`)
        ?.postings.reduce((sum, p) => (p.amount > 0n ? sum + p.amount : sum), 0n);
      const cost = handle?.payment.cost ?? paid ?? null;
      this.store.finish(itemId, {
        verdict: verdictOf(answer),
        answer: answer.slice(0, 500),
        cost: cost === null ? null : formatAmount(cost),
        at: this.#campaigns.now(),
      });
    } catch (error) {
      this.#failed(itemId, error);
    }
  }

  #failed(itemId: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.store.fail(itemId, reason, this.#campaigns.now());
    this.#log('warn', 'machine pre-review failed; the item stays in review', { item: itemId, reason });
  }
}

const paramsOf = (maxTokens: number) => ({ maxTokens, temperature: 0, topP: 1, stop: [] });
