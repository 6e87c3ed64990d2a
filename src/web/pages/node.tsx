import { useState } from 'preact/hooks';
import type { NodeDetailView, NodePointView } from '../../protocol/metrics-views.js';
import { Chart } from '../chart.js';
import { duration, si, time, tokens } from '../format.js';
import { useApi } from '../hooks.js';
import { Problem, Select, Stat, Table } from '../parts.js';

type Period = '15 min' | '1 hour' | '1 day' | '1 week';
/** Each period's window and step, in seconds. */
const PERIODS: Record<Period, [number, number]> = {
  '15 min': [15 * 60, 5],
  '1 hour': [3600, 30],
  '1 day': [86_400, 600],
  '1 week': [604_800, 3600],
};

/** Verdicts listed before "show all". */
const VERDICTS_SHOWN = 10;

const REASONS: Record<string, string> = {
  model_not_held: 'Model not held',
  low_reputation: 'Low reputation',
  stake_below_minimum: 'Stake below minimum',
  busy: 'Busy',
  offline: 'Offline',
};

/** One node: its figures over a period, its verdicts, earnings, and why the scheduler passed it over. */
export function Node({ id }: { id: string }) {
  const [period, setPeriod] = useState<Period>('15 min');
  const [allVerdicts, setAllVerdicts] = useState(false);
  const node = useApi<NodeDetailView>(`/api/nodes/${id}`, 5000);
  const [seconds, step] = PERIODS[period];
  // Rounded to the step so the path (and the fetch) changes only when the window moves a step.
  const since = Math.floor((Date.now() - seconds * 1000) / (step * 1000)) * step * 1000;
  const points = useApi<{ data: NodePointView[] }>(
    `/api/nodes/${id}/metrics?since=${since}&step=${step}`,
    5000,
  );
  const p = points.data?.data ?? [];
  const at = p.map((x) => x.at);
  const n = node.data;
  return (
    <section>
      <h1>
        Node <span class="mono">{id}</span>
      </h1>
      {node.error && <Problem error={node.error} what="this node" />}
      {n && (
        <div class="stats">
          <Stat
            label="Status"
            value={n.online ? 'online' : 'offline'}
            hint={`${n.type}, up ${duration(n.uptimeSeconds)}`}
          />
          <Stat label="Compute" value={si(n.flops, 'FLOPS')} />
          <Stat label="GPU" value={n.gpuUtilization === null ? '—' : `${n.gpuUtilization.toFixed(0)} %`} />
          <Stat
            label="Tasks"
            value={n.tasksDone}
            hint={`${n.tasksFailed} failed, ${n.verifiedTasks} verified`}
          />
          <Stat label="Reputation" value={n.reputation.toFixed(2)} />
          <Stat label="Stake" value={tokens(n.stake)} />
          <Stat label="Earnings" value={tokens(n.earnings)} />
          <Stat label="Models" value={n.models.length} hint={n.models.join(', ')} />
        </div>
      )}
      {n && (
        <>
          <h2>Why is my node idle?</h2>
          {n.idleReasons.length === 0 ? (
            <p class="empty">The scheduler has not passed this node over lately.</p>
          ) : (
            <ul class="reasons" data-testid="idle-reasons">
              {n.idleReasons.map((r) => (
                <li key={`${r.at}-${r.reason}`} data-reason={r.reason}>
                  <strong>{REASONS[r.reason] ?? r.reason}</strong> <span class="hint">{time(r.at)}</span>
                  <p>{r.detail}</p>
                  <p class="action">What to do: {r.action}</p>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <div class="row">
        <h2>Performance</h2>
        <Select
          label="Period"
          value={period}
          options={Object.keys(PERIODS) as Period[]}
          onChange={setPeriod}
        />
      </div>
      {points.error && <Problem error={points.error} what="this node's figures" />}
      <div class="charts">
        <Chart
          title="Throughput"
          data={[at, p.map((x) => x.tokensPerSecond), p.map((x) => x.flops)]}
          series={[
            { label: 'tokens/s', color: '#3b82f6' },
            { label: 'FLOPS', color: '#a855f7', scale: 'flops' },
          ]}
        />
        <Chart
          title="Utilization (%)"
          unmeasured="Not measured on this node."
          data={[at, p.map((x) => x.gpuUtilization), p.map((x) => x.cpuUtilization)]}
          series={[
            { label: 'GPU', color: '#10b981' },
            { label: 'CPU', color: '#f59e0b' },
          ]}
        />
        <Chart
          title="Temperature and power"
          unmeasured="Not measured on this node: it reports temperature and power from nvidia-smi (or RAPL for power)."
          data={[at, p.map((x) => x.temperatureC), p.map((x) => x.powerWatts)]}
          series={[
            { label: '°C', color: '#ef4444' },
            { label: 'W', color: '#64748b', scale: 'watts' },
          ]}
        />
      </div>
      {n && (
        <>
          <h2>Earnings per epoch</h2>
          {n.earningsPerEpoch.length === 0 ? (
            <p class="empty">No epoch has paid this node yet.</p>
          ) : (
            <Table head={['Epoch', 'Amount']}>
              {n.earningsPerEpoch.map((e) => (
                <tr key={e.epoch}>
                  <td>{e.epoch}</td>
                  <td>{tokens(e.amount)}</td>
                </tr>
              ))}
            </Table>
          )}
          <h2>Verdicts</h2>
          {n.verdicts.length === 0 ? (
            <p class="empty">No verdicts on this node's work yet.</p>
          ) : (
            <Table head={['When', 'Task', 'Check', 'Outcome', 'Why']}>
              {(allVerdicts ? n.verdicts : n.verdicts.slice(0, VERDICTS_SHOWN)).map((v) => (
                <tr key={`${v.taskId}-${v.at}`}>
                  <td>{time(v.at)}</td>
                  <td class="mono">{v.taskId}</td>
                  <td>{v.level}</td>
                  <td>
                    <span class={v.outcome === 'pass' ? 'badge ok' : 'badge bad'}>{v.outcome}</span>
                  </td>
                  <td>{v.reason ?? ''}</td>
                </tr>
              ))}
            </Table>
          )}
          {!allVerdicts && n.verdicts.length > VERDICTS_SHOWN && (
            <button type="button" class="secondary more" onClick={() => setAllVerdicts(true)}>
              Show all {n.verdicts.length} verdicts
            </button>
          )}
        </>
      )}
    </section>
  );
}
