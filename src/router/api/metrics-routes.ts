import type { FastifyInstance } from 'fastify';
import {
  InvalidParameterError,
  LEADERBOARD_BYS,
  LEADERBOARD_PERIODS,
  type LeaderboardEntryView,
  type ListView,
  type NetworkOverviewView,
  type NetworkPointView,
  NODE_SORTS,
  type NodeListView,
  type NodePointView,
  type NodeView,
  NotFoundError,
} from '../../protocol/index.js';
import type { RouterServices } from '../context.js';
import { NodeViews, pointView } from '../metrics/node-views.js';
import type { RouterMetrics } from '../metrics/router-metrics.js';

type Query = Record<string, string | undefined>;

/** Most points one series request may return. */
const MAX_POINTS = 5000;
const LIVE_MS = 1000;

function integer(query: Query, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max)
    throw new InvalidParameterError(
      name,
      `'${name}' must be a whole number from ${min} to ${max}; got '${raw}'.`,
    );
  return value;
}

function oneOf<T extends string>(query: Query, name: string, allowed: readonly T[], fallback: T): T {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new InvalidParameterError(name, `'${name}' must be one of ${allowed.join(', ')}; got '${raw}'.`);
  return raw as T;
}

/** `since` (ms since epoch, default an hour ago) and `step` (seconds, default about 300 points). */
function range(query: Query, sampleMs: number): { since: number; stepMs: number } {
  const now = Date.now();
  const since = integer(query, 'since', now - 3_600_000, 0, now + 86_400_000);
  const span = Math.max(0, now - since);
  const fallback = Math.max(sampleMs / 1000, Math.ceil(span / 1000 / 300));
  const step = integer(query, 'step', fallback, 1, 30 * 86_400);
  if (span / (step * 1000) > MAX_POINTS)
    throw new InvalidParameterError(
      'step',
      `'step' ${step} s would give more than ${MAX_POINTS} points since ${since}; use a larger step or a later since.`,
    );
  return { since, stepMs: step * 1000 };
}

function nodeId(raw: string): string {
  const id = raw.toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(id))
    throw new InvalidParameterError('id', 'A node id is its address: 0x and 40 hex digits.');
  return id;
}

/**
 * The metrics API (issue 11, METRICS-CONTRACT.md): public, since node and network figures are the network's,
 * not a user's. Also `GET /metrics` for Prometheus.
 */
export function metricsRoutes(app: FastifyInstance, services: RouterServices, metrics: RouterMetrics): void {
  const views = new NodeViews(metrics);
  const sampleMs = metrics.series.tiers.sampleMs;

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/api/network/overview', async (): Promise<NetworkOverviewView> => metrics.overview());

  app.get('/api/network/live', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = () => {
      // A client that stops reading is dropped rather than buffered for.
      if (res.writableLength > 1024 * 1024) return res.destroy();
      res.write(`event: overview\ndata: ${JSON.stringify(metrics.overview())}\n\n`);
    };
    send();
    const timer = setInterval(send, LIVE_MS);
    request.raw.on('close', () => clearInterval(timer));
  });

  app.get<{ Querystring: Query }>(
    '/api/network/metrics',
    async (request): Promise<ListView<NetworkPointView>> => {
      const { since, stepMs } = range(request.query, sampleMs);
      return { object: 'list', data: metrics.series.networkPoints(since, stepMs, MAX_POINTS + 1) };
    },
  );

  app.get<{ Querystring: Query }>('/api/nodes', async (request): Promise<NodeListView> => {
    const limit = integer(request.query, 'limit', 50, 1, 1000);
    const offset = integer(request.query, 'offset', 0, 0, 1_000_000_000);
    const sort = oneOf(request.query, 'sort', NODE_SORTS, 'verified');
    return { object: 'list', ...views.page(sort, limit, offset) };
  });

  // The node page's record. It also keeps the fields this route answered before issue 11 (connected,
  // first_seen, last_seen, tasks_done, per-model reputation as reputation_by_model, verdicts with evidence).
  app.get<{ Params: { id: string } }>('/api/nodes/:id', async (request) => {
    const id = nodeId(request.params.id);
    const detail = views.detail(id);
    if (!detail) throw new NotFoundError('node', `No node '${request.params.id}'.`);
    const { wallet: _wallet, ...view } = detail;
    const stored = services.nodes.get(id);
    const verdicts = services.verdicts.byNode(id, 50);
    const models = new Set(verdicts.map((v) => v.modelSha256));
    const answer: NodeView = {
      ...view,
      connected: services.scheduler.isConnected(id),
      ...(stored
        ? { first_seen: stored.firstSeen, last_seen: stored.lastSeen, tasks_done: stored.tasksDone }
        : {}),
      reputation_by_model: [...models].map((sha) => {
        const r = services.verification.reputation(id, sha);
        return { model_sha256: sha, score: r.score, passes: r.passes, fails: r.fails, streak: r.streak };
      }),
      verdicts: verdicts.map((v) => ({
        id: v.id,
        at: v.at,
        taskId: v.taskId,
        task_id: v.taskId,
        attempt: v.attempt,
        level: v.level,
        outcome: v.outcome,
        reason: v.reason,
        validator: v.validatorId,
        evidence: v.evidence,
      })),
    };
    return answer;
  });

  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/api/nodes/:id/metrics',
    async (request): Promise<ListView<NodePointView>> => {
      const id = nodeId(request.params.id);
      const { since, stepMs } = range(request.query, sampleMs);
      if (!services.nodes.get(id)) throw new NotFoundError('node', `No node '${request.params.id}'.`);
      return {
        object: 'list',
        data: metrics.series.nodePoints(id, since, stepMs, MAX_POINTS + 1).map(pointView),
      };
    },
  );

  app.get<{ Querystring: Query }>(
    '/api/leaderboard',
    async (request): Promise<ListView<LeaderboardEntryView>> => {
      const by = oneOf(request.query, 'by', LEADERBOARD_BYS, 'verified');
      const period = oneOf(request.query, 'period', LEADERBOARD_PERIODS, 'all');
      const limit = integer(request.query, 'limit', 100, 1, 1000);
      return { object: 'list', data: views.leaderboard(by, period, limit) };
    },
  );
}
