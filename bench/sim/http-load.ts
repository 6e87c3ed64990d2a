/**
 * HTTP load generator for the simulation benches (a child process, so its CPU is not the router's): POSTs
 * /v1/completions with small max_tokens over many keep-alive connections and reports rate and latency.
 */
import http from 'node:http';

type Config = { url: string; apiKey: string; total: number; concurrency: number; model: string };
const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency });
const target = new URL('/v1/completions', config.url);
const body = JSON.stringify({ model: config.model, prompt: 'hello', max_tokens: 4, validation: 'none' });

function post(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${config.apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let sent = 0;
const statuses: Record<string, number> = {};
const latencies: number[] = [];
const start = performance.now();
await Promise.all(
  Array.from({ length: config.concurrency }, async () => {
    while (sent < config.total) {
      sent++;
      const t0 = performance.now();
      const status = await post().catch(() => 0);
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
process.send?.({
  seconds,
  statuses,
  latencies: [latencies[Math.floor(latencies.length / 2)], latencies[Math.floor(latencies.length * 0.99)]],
});
agent.destroy();
