/**
 * Where a routed request's time goes, step by step (OTENSOR_TIMING_DIR; src/timing/marks.ts): the marks of
 * the router and the bench's client (this process) and of the node process, on one clock, cut into the
 * steps below; each figure is the median over the measured requests, in microseconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marksSoFar } from '../src/timing/marks.js';

const BEFORE_FIRST_TEXT = [
  'c.start', // the client sends the request
  'r.http', // the router's HTTP server has it
  'r.submit', // fastify, the key, the body and its task (quote, validation) done
  'r.committed', // the task's row committed (group commit)
  'r.assign', // leased to the node, about to be sent
  'n.message', // the node has the message
  'n.work', // parsed and started
  'n.chunk', // the engine's first text, sent at once (direct: d.start -> d.first)
  'r.chunk', // the router has the node's first chunk
  'r.sse', // and has written it to the client
  'c.first', // the client has it
];
const AFTER_LAST_TEXT = [
  'n.generated', // the engine is done
  'n.result', // the node's signed result is ready to send (after its last chunk)
  'r.result', // the router has it
  'r.verified', // its signature checked
  'r.accepted', // committed
  'r.end', // the answer's end written
  'c.end', // the client has it all
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Step medians (us) over the requests after the first `skip` (the warm-ups). */
export function overheadSteps(dir: string, skip: number) {
  const lines = [...marksSoFar()];
  for (const file of readdirSync(dir)) lines.push(...readFileSync(join(dir, file), 'utf8').split('\n'));
  const marks = lines
    .filter((l) => l.length > 0)
    .map((l) => {
      const [at, label] = l.split(' ');
      return { at: Number(at), label: label ?? '' };
    })
    .sort((a, b) => a.at - b.at);
  const routed: Map<string, number>[] = [];
  const direct: Map<string, number>[] = [];
  let current: Map<string, number> | undefined;
  for (const { at, label } of marks) {
    if (label === 'c.start' || label === 'd.start') {
      current = new Map();
      (label === 'c.start' ? routed : direct).push(current);
    }
    if (current && !current.has(label)) current.set(label, at);
  }
  const step = (requests: Map<string, number>[], from: string, to: string) =>
    Math.round(
      median(
        requests.slice(skip).flatMap((r) => {
          const a = r.get(from);
          const b = r.get(to);
          return a === undefined || b === undefined ? [] : [(b - a) * 1000];
        }),
      ),
    );
  const steps = (chain: string[]) =>
    Object.fromEntries(
      chain.slice(1).map((to, i) => [`${chain[i]}>${to}`, step(routed, chain[i] as string, to)]),
    );
  return {
    requests: Math.max(0, routed.length - skip),
    beforeFirstTextUs: steps(BEFORE_FIRST_TEXT),
    afterLastTextUs: steps(AFTER_LAST_TEXT),
    directFirstTextUs: step(direct, 'd.start', 'd.first'),
    nodeGenerationUs: step(routed, 'n.work', 'n.generated'),
    directGenerationUs: step(direct, 'd.start', 'd.end'),
  };
}
