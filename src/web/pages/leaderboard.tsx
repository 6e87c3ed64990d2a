import { useState } from 'preact/hooks';
import {
  LEADERBOARD_BYS,
  LEADERBOARD_PERIODS,
  type LeaderboardBy,
  type LeaderboardEntryView,
  type LeaderboardPeriod,
} from '../../protocol/metrics-views.js';
import { duration, tokens } from '../format.js';
import { useApi } from '../hooks.js';
import { NodeLink, Problem, Select, Table } from '../parts.js';
import { ContributorBoard } from './contributor-board.js';

const TITLES: Record<LeaderboardBy, string> = {
  verified: 'Verified tasks',
  uptime: 'Uptime',
  earnings: 'Earnings',
};

function value(by: LeaderboardBy, v: string | number): string {
  if (by === 'uptime') return duration(Number(v));
  if (by === 'earnings') return `${tokens(String(v))} tokens`;
  return String(v);
}

export function Leaderboard() {
  const [by, setBy] = useState<LeaderboardBy>('verified');
  const [period, setPeriod] = useState<LeaderboardPeriod>('day');
  const board = useApi<{ data: LeaderboardEntryView[] }>(
    `/api/leaderboard?by=${by}&period=${period}`,
    10_000,
  );
  return (
    <section>
      <h1>Leaderboards</h1>
      <div class="controls">
        <Select label="By" name="by" value={by} options={LEADERBOARD_BYS} onChange={setBy} />
        <Select
          label="Period"
          name="period"
          value={period}
          options={LEADERBOARD_PERIODS}
          onChange={setPeriod}
        />
      </div>
      {board.error && <Problem error={board.error} what="leaderboards" />}
      {board.data && board.data.data.length === 0 && (
        <p class="empty">No node has work in this period yet.</p>
      )}
      {board.data && board.data.data.length > 0 && (
        <Table head={['#', 'Node', TITLES[by]]}>
          {board.data.data.map((e) => (
            <tr key={e.nodeId}>
              <td>{e.rank}</td>
              <td>
                <NodeLink id={e.nodeId} />
              </td>
              <td>{value(by, e.value)}</td>
            </tr>
          ))}
        </Table>
      )}
      <ContributorBoard />
    </section>
  );
}
