import { useEffect, useState } from 'preact/hooks';
import type { NetworkOverviewView, NetworkPointView, NodeListView } from '../../protocol/metrics-views.js';
import { ApiError, api, openEvents, readEvents } from '../api.js';
import { Chart } from '../chart.js';
import { percent, si } from '../format.js';
import { useApi } from '../hooks.js';
import { NodeLink, Problem, Stat, Table } from '../parts.js';

/** Pause before the live stream is opened again. */
const RECONNECT_MS = 2000;

/** Points kept in the browser: 15 minutes at one a second. */
const KEEP = 900;

type Series = { at: number[]; tokens: number[]; tasks: number[]; queue: number[]; nodes: number[] };

const empty = (): Series => ({ at: [], tokens: [], tasks: [], queue: [], nodes: [] });

function append(
  series: Series,
  p: { at: number; tokens: number; tasks: number; queue: number; nodes: number },
) {
  if (series.at.length > 0 && p.at <= (series.at.at(-1) ?? 0)) return series;
  const keep = <T,>(a: T[], v: T) => [...a, v].slice(-KEEP);
  return {
    at: keep(series.at, p.at),
    tokens: keep(series.tokens, p.tokens),
    tasks: keep(series.tasks, p.tasks),
    queue: keep(series.queue, p.queue),
    nodes: keep(series.nodes, p.nodes),
  };
}

/** The network at a glance, live: figures from the live stream and charts that move as work runs. */
export function Overview() {
  const [overview, setOverview] = useState<NetworkOverviewView | null>(null);
  const [series, setSeries] = useState<Series>(empty);
  const [error, setError] = useState<ApiError | null>(null);
  const nodes = useApi<NodeListView>('/api/nodes?limit=50&sort=verified', 5000);

  useEffect(() => {
    const controller = new AbortController();
    const run = async () => {
      // The figures at once; then history (the last 15 minutes), and the live stream appends to it.
      void api<NetworkOverviewView>('/api/network/overview', undefined, { signal: controller.signal })
        .then((o) => setOverview((live) => live ?? o))
        .catch(() => {});
      const since = Date.now() - 15 * 60_000;
      const history = await api<{ data: NetworkPointView[] }>(
        `/api/network/metrics?since=${since}&step=5`,
        undefined,
        { signal: controller.signal },
      );
      let s = empty();
      for (const p of history.data)
        s = append(s, {
          at: p.at,
          tokens: p.tokensPerSecond,
          tasks: p.tasksPerMinute,
          queue: p.queueDepth,
          nodes: p.nodesOnline,
        });
      setSeries(s);
      // The live stream, opened again after a pause whenever it ends (a router restart, a network blip).
      while (!controller.signal.aborted) {
        try {
          const response = await openEvents('/api/network/live', undefined, controller.signal);
          await readEvents(response, (data) => {
            const o = JSON.parse(data) as NetworkOverviewView;
            setOverview(o);
            setError(null);
            setSeries((prev) =>
              append(prev, {
                at: o.at,
                tokens: o.tokensPerSecond,
                tasks: o.tasksPerMinute,
                queue: o.queueDepth,
                nodes: o.nodesOnline.total,
              }),
            );
          });
        } catch (e) {
          if (controller.signal.aborted) return;
          // A router without the live route will not grow one: say so and stop asking.
          if (e instanceof ApiError && e.status === 404) throw e;
          setError(new ApiError(0, 'The live stream was interrupted; reconnecting…', null));
        }
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    };
    run().catch((e: unknown) => {
      if (controller.signal.aborted) return;
      setError(e instanceof ApiError ? e : new ApiError(0, String(e), null));
    });
    return () => controller.abort();
  }, []);

  return (
    <section>
      <h1>Network</h1>
      {error && <Problem error={error} what="live network figures" />}
      <div class="stats" data-testid="overview">
        <Stat
          label="Nodes online"
          value={overview?.nodesOnline.total ?? '—'}
          hint={
            overview
              ? Object.entries(overview.nodesOnline.byType)
                  .map(([type, n]) => `${n} ${type}`)
                  .join(', ')
              : ''
          }
        />
        <Stat label="Total compute" value={overview ? si(overview.totalFlops, 'FLOPS') : '—'} />
        <Stat label="Tasks / min" value={overview ? overview.tasksPerMinute.toFixed(1) : '—'} />
        <Stat label="Tokens / s" value={overview ? overview.tokensPerSecond.toFixed(1) : '—'} />
        <Stat label="Queue" value={overview?.queueDepth ?? '—'} />
        <Stat
          label="Verification pass rate"
          value={overview ? percent(overview.verificationPassRate) : '—'}
        />
      </div>
      <div class="charts">
        <Chart
          title="Throughput"
          data={[series.at, series.tokens, series.tasks]}
          series={[
            { label: 'tokens/s', color: '#3b82f6' },
            { label: 'tasks/min', color: '#f59e0b', scale: 'tasks' },
          ]}
        />
        <Chart
          title="Nodes and queue"
          data={[series.at, series.nodes, series.queue]}
          series={[
            { label: 'nodes online', color: '#10b981' },
            { label: 'queued tasks', color: '#ef4444', scale: 'queue' },
          ]}
        />
      </div>
      <h2>Nodes</h2>
      {nodes.error && <Problem error={nodes.error} what="the node list" />}
      {nodes.data && (
        <Table head={['Node', 'Type', 'Status', 'Models', 'Compute', 'Tasks', 'Verified', 'Reputation']}>
          {nodes.data.data.map((n) => (
            <tr key={n.id} data-node={n.id}>
              <td>
                <NodeLink id={n.id} />
              </td>
              <td>{n.type}</td>
              <td>
                <span class={n.online ? 'badge ok' : 'badge'}>{n.online ? 'online' : 'offline'}</span>
              </td>
              <td>{n.models.join(', ') || '—'}</td>
              <td>{si(n.flops, 'FLOPS')}</td>
              <td>
                {n.tasksDone}
                {n.tasksFailed > 0 ? ` (${n.tasksFailed} failed)` : ''}
              </td>
              <td>{n.verifiedTasks}</td>
              <td>{n.reputation.toFixed(2)}</td>
            </tr>
          ))}
        </Table>
      )}
      {nodes.data?.data.length === 0 && <p class="empty">No node has joined yet.</p>}
    </section>
  );
}
