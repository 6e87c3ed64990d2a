import { readFileSync, writeFileSync } from 'node:fs';
import { type Batch, OmniClient } from '../sdk/index.js';

const terminal = new Set(['completed', 'cancelled', 'failed', 'expired']);
const endpoints = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
type Endpoint = (typeof endpoints)[number];

/** The endpoint of the first line that names one: a batch runs one endpoint. */
function endpointOf(content: string): Endpoint {
  for (const line of content.split('\n')) {
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (endpoints.includes(url as Endpoint)) return url as Endpoint;
    } catch {}
  }
  return '/v1/chat/completions';
}

const time = (seconds: number) =>
  !Number.isFinite(seconds)
    ? '?'
    : seconds < 60
      ? `${Math.ceil(seconds)}s`
      : `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;

/** A progress bar of answered lines on stderr: redrawn in place on a terminal, a line a second elsewhere. */
function progressBar() {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastLine = 0;
  let firstDone = -1;
  return (batch: Batch, final = false) => {
    const { total, completed, failed } = batch.request_counts;
    const done = completed + failed;
    const now = performance.now();
    if (!final && !tty && now - lastLine < 1000) return;
    lastLine = now;
    if (firstDone < 0 && total > 0) firstDone = done;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? (done - Math.max(0, firstDone)) / seconds : 0;
    const share = total > 0 ? done / total : 0;
    const bar = `[${'#'.repeat(Math.round(share * 30)).padEnd(30, '-')}]`;
    const eta = final ? `in ${time(seconds)}` : `ETA ${rate > 0 ? time((total - done) / rate) : '?'}`;
    const text = `${bar} ${done}/${total} lines (${failed} failed) ${rate.toFixed(1)} lines/s ${eta} ${batch.status}`;
    process.stderr.write(tty ? `\r${text}\x1b[K${final ? '\n' : ''}` : `${text}\n`);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `submit --file requests.jsonl [--out results.jsonl]`: runs a batch and writes its output in input order. */
export async function submitCommand(options: {
  file: string;
  out?: string;
  router: string;
  apiKey?: string;
  endpoint?: string;
  pollMs: number;
}): Promise<void> {
  const apiKey = options.apiKey ?? process.env.OTENSOR_API_KEY;
  if (!apiKey) throw new Error('No API key: pass --api-key KEY or set OTENSOR_API_KEY.');
  if (options.endpoint !== undefined && !endpoints.includes(options.endpoint as Endpoint))
    throw new Error(`--endpoint must be one of ${endpoints.join(', ')}.`);
  const content = readFileSync(options.file);
  const out = options.out ?? `${options.file.replace(/\.jsonl$/i, '')}.results.jsonl`;
  const errorsOut = `${out.replace(/\.jsonl$/i, '')}.errors.jsonl`;
  const client = new OmniClient({ baseUrl: options.router, apiKey });

  const file = await client.uploadFile(content, options.file.split(/[\\/]/).pop() ?? 'requests.jsonl');
  let batch = await client.createBatch({
    input_file_id: file.id,
    endpoint: (options.endpoint as Endpoint | undefined) ?? endpointOf(content.toString('utf8')),
  });
  process.stderr.write(`batch ${batch.id} created from ${options.file} (${file.bytes} bytes)\n`);

  let interrupted = false;
  const onSignal = () => {
    // A second Ctrl-C leaves at once; the batch was already asked to cancel.
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\ncancelling batch ${batch.id}...\n`);
    client.cancelBatch(batch.id).catch((error: unknown) => {
      process.stderr.write(`could not cancel batch ${batch.id}: ${String(error)}\n`);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressBar();
  try {
    while (!terminal.has(batch.status)) {
      await sleep(options.pollMs);
      batch = await client.batch(batch.id);
      progress(batch);
    }
    progress(batch, true);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (batch.status === 'failed') {
    const reasons = batch.errors?.data.map((e) => e.message).join('; ') ?? 'unknown reason';
    throw new Error(`batch ${batch.id} failed: ${reasons}`);
  }
  const output = batch.output_file_id ? await client.fileContent(batch.output_file_id) : '';
  writeFileSync(out, output);
  const { total, completed, failed } = batch.request_counts;
  process.stderr.write(`${completed} result(s) written to ${out}\n`);
  if (batch.error_file_id) {
    writeFileSync(errorsOut, await client.fileContent(batch.error_file_id));
    process.stderr.write(`${failed} failed line(s) written to ${errorsOut}\n`);
  }
  if (batch.status === 'cancelled') {
    process.stderr.write(`batch ${batch.id} cancelled: ${completed + failed} of ${total} lines answered\n`);
    process.exitCode = 130;
    return;
  }
  process.stderr.write(`batch ${batch.id} completed: ${completed} ok, ${failed} failed, of ${total}\n`);
}
