/**
 * Batch throughput: one N-line batch (chat completions on the tiny model, fixed seeds) through the Batch API
 * versus the same requests sent one by one, sequentially (a naive client) and by as many concurrent clients
 * as there are nodes (the fair comparison); then the batch path's scaling with 1, 2 and 3 node processes.
 * Every configuration starts a fresh router (in this process, fresh data folder) and fresh node processes
 * (the real CLI, real engine, `--threads 1 --slots 1`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../src/models/index.js';
import type { Batch, ChatParameters, OmniClient } from '../src/sdk/index.js';
import { startBenchNetwork } from './local-network.js';

export type BatchBenchOptions = { lines?: number; maxTokens?: number; threads?: number; nodes?: number };

type Network = { url: string; apiKey: string; client: OmniClient; stop(): Promise<void> };

type Answer = { content: string; tokens: number };

type Run = {
  lines: number;
  seconds: number;
  linesPerSecond: number;
  completionTokensPerSecond: number;
  failed: number;
  routerAndClientCpuMsPerLine: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const requestBody = (i: number, maxTokens: number): ChatParameters => ({
  model: 'tiny',
  messages: [{ role: 'user', content: `Batch line ${i}: write a short note about shared compute.` }],
  max_tokens: maxTokens,
  temperature: 0.8,
  seed: i,
  // Throughput of splitting and integrating is measured here; result checks are the adversarial bench's.
  validation: 'none',
});

export async function batchBench(options: BatchBenchOptions = {}) {
  const lineCount = options.lines ?? 2000;
  const maxTokens = options.maxTokens ?? 32;
  const threads = options.threads ?? 1;
  const maxNodes = options.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-batch-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });
  process.env.OTENSOR_LOG = 'warn';
  const log = (text: string) => process.stderr.write(`  batch: ${text}\n`);
  let configuration = 0;

  /** A fresh router data folder and `nodeCount` fresh node processes, warmed up. */
  const network = async (nodeCount: number): Promise<Network> => {
    const { router, apiKey, client, stop } = await startBenchNetwork({
      routerData: join(dir, `router-${++configuration}`),
      nodeData: (i) => join(dir, `node-${i}`),
      modelPath,
      nodes: nodeCount,
      threads,
    });
    // Warm every node (first-use allocations) before measuring.
    await Promise.all(
      Array.from({ length: 2 * nodeCount }, (_, i) => client.chat(requestBody(-1 - i, maxTokens))),
    );
    return { url: router.url, apiKey, client, stop };
  };

  /** `cpu` is this process's CPU use over the run (`process.cpuUsage(start)`): the router plus the client. */
  const summary = (seconds: number, answers: (Answer | null)[], cpu: NodeJS.CpuUsage): Run => {
    const tokens = answers.reduce((sum, a) => sum + (a?.tokens ?? 0), 0);
    return {
      lines: answers.length,
      seconds: Number(seconds.toFixed(2)),
      linesPerSecond: Number((answers.length / seconds).toFixed(1)),
      completionTokensPerSecond: Number((tokens / seconds).toFixed(0)),
      failed: answers.filter((a) => a === null).length,
      routerAndClientCpuMsPerLine: Number(((cpu.user + cpu.system) / 1000 / answers.length).toFixed(3)),
    };
  };

  /** The batch path: upload, create, poll until done, download the output; timed end to end. */
  const runBatch = async (net: Network) => {
    const jsonl = `${Array.from({ length: lineCount }, (_, i) =>
      JSON.stringify({
        custom_id: `line-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: requestBody(i, maxTokens),
      }),
    ).join('\n')}\n`;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const file = await net.client.uploadFile(jsonl, 'bench.jsonl');
    const uploaded = performance.now();
    let batch: Batch = await net.client.createBatch({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
    });
    let inProgressAt = Number.NaN;
    while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) {
      // Each poll costs the router a count over the batch's lines (~1-2 ms at 2,000 lines): poll gently.
      await sleep(100);
      batch = await net.client.batch(batch.id);
      if (Number.isNaN(inProgressAt) && batch.status !== 'validating') inProgressAt = performance.now();
    }
    const done = performance.now();
    if (batch.status !== 'completed' || !batch.output_file_id)
      throw new Error(`batch ended ${batch.status}: ${JSON.stringify(batch.errors)}`);
    const output = await net.client.fileContent(batch.output_file_id);
    const end = performance.now();
    const answers: (Answer | null)[] = Array.from({ length: lineCount }, () => null);
    for (const text of output.split('\n')) {
      if (!text) continue;
      const line = JSON.parse(text) as {
        custom_id: string;
        response: {
          body: { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
        } | null;
      };
      const body = line.response?.body;
      if (!body) continue;
      answers[Number(line.custom_id.slice('line-'.length))] = {
        content: body.choices[0]?.message.content ?? '',
        tokens: body.usage.completion_tokens,
      };
    }
    return {
      run: {
        ...summary((end - start) / 1000, answers, process.cpuUsage(cpu)),
        uploadMs: Number((uploaded - start).toFixed(0)),
        // Polled every 100 ms: these phases are as coarse as that.
        validatingMs: Number((inProgressAt - uploaded).toFixed(0)),
        downloadMs: Number((end - done).toFixed(0)),
        outputLines: output.split('\n').filter((l) => l.length > 0).length,
        errorFile: batch.error_file_id !== null,
      },
      answers,
    };
  };

  /** The same lines as plain non-streaming requests from `clients` clients, each one request at a time. */
  const runOneByOne = async (net: Network, clients: number) => {
    const url = new URL(net.url);
    const answers: (Answer | null)[] = Array.from({ length: lineCount }, () => null);
    let next = 0;
    const worker = async () => {
      // node:http with keep-alive, one socket per client (fetch would add its own cost per request).
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = next++; i < lineCount; i = next++) {
        answers[i] = await new Promise<Answer | null>((done, reject) => {
          const request = http.request(
            {
              host: url.hostname,
              port: url.port,
              path: '/v1/chat/completions',
              method: 'POST',
              agent,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${net.apiKey}` },
            },
            (response) => {
              let body = '';
              response.setEncoding('utf8');
              response.on('data', (text: string) => {
                body += text;
              });
              response.on('end', () => {
                if (response.statusCode !== 200) return done(null);
                const json = JSON.parse(body) as {
                  choices: { message: { content: string } }[];
                  usage: { completion_tokens: number };
                };
                done({
                  content: json.choices[0]?.message.content ?? '',
                  tokens: json.usage.completion_tokens,
                });
              });
            },
          );
          request.on('error', reject);
          request.end(JSON.stringify(requestBody(i, maxTokens)));
        });
      }
      agent.destroy();
    };
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(Array.from({ length: clients }, worker));
    const seconds = (performance.now() - start) / 1000;
    return { run: summary(seconds, answers, process.cpuUsage(cpu)), answers };
  };

  const measure = async <T>(nodeCount: number, what: string, body: (net: Network) => Promise<T>) => {
    log(`${what} with ${nodeCount} node(s)...`);
    const net = await network(nodeCount);
    try {
      return await body(net);
    } finally {
      await net.stop();
    }
  };

  const started = performance.now();
  const batchRuns: Record<number, Run> = {};
  let batchAnswers: (Answer | null)[] = [];
  let batchDetail: Record<string, unknown> = {};
  for (let n = 1; n <= maxNodes; n++) {
    const { run, answers } = await measure(n, 'batch', runBatch);
    const { uploadMs, validatingMs, downloadMs, outputLines, errorFile, ...summaryOnly } = run;
    batchRuns[n] = summaryOnly;
    log(`batch, ${n} node(s): ${run.linesPerSecond} lines/s`);
    if (n === maxNodes) {
      batchAnswers = answers;
      batchDetail = { uploadMs, validatingMs, downloadMs, outputLines, errorFile };
    }
  }
  const sequential = await measure(maxNodes, 'one by one, 1 client', (net) => runOneByOne(net, 1));
  log(`one by one, 1 client: ${sequential.run.linesPerSecond} lines/s`);
  const concurrent = await measure(maxNodes, `one by one, ${maxNodes} clients`, (net) =>
    runOneByOne(net, maxNodes),
  );
  log(`one by one, ${maxNodes} clients: ${concurrent.run.linesPerSecond} lines/s`);
  rmSync(dir, { recursive: true, force: true });

  const batchTop = batchRuns[maxNodes] as Run;
  const batchOne = batchRuns[1] as Run;
  // Fixed seeds: the batch path and the plain requests should give the very same text for each line.
  const same = (other: (Answer | null)[]) =>
    batchAnswers.filter((a, i) => a !== null && a.content === other[i]?.content).length;
  const cores = availableParallelism();
  return {
    name: 'batch',
    model: 'tiny (seed 1, Q8_0)',
    lines: lineCount,
    maxTokens,
    nodes: maxNodes,
    threadsPerNode: threads,
    slotsPerNode: 1,
    cores,
    note:
      `This machine has ${cores} CPU cores: ${maxNodes} nodes with ${threads} thread(s) each share them with the ` +
      `router and the client, so on CPU the ${maxNodes}-node figures cannot scale much past ~${cores}x one node.`,
    batch: { ...batchTop, ...batchDetail },
    oneByOneSequential: sequential.run,
    oneByOneConcurrent: { clients: maxNodes, ...concurrent.run },
    batchVsSequential: Number((batchTop.linesPerSecond / sequential.run.linesPerSecond).toFixed(2)),
    batchVsConcurrent: Number((batchTop.linesPerSecond / concurrent.run.linesPerSecond).toFixed(2)),
    scaling: Object.fromEntries(
      Object.entries(batchRuns).map(([n, run]) => [
        `${n}node`,
        { linesPerSecond: run.linesPerSecond, seconds: run.seconds },
      ]),
    ),
    scalingRatio: Number((batchTop.linesPerSecond / batchOne.linesPerSecond).toFixed(2)),
    sameTextAsSequential: `${same(sequential.answers)}/${lineCount}`,
    sameTextAsConcurrent: `${same(concurrent.answers)}/${lineCount}`,
    benchSeconds: Number(((performance.now() - started) / 1000).toFixed(0)),
  };
}
