import type { FastifyInstance } from 'fastify';
import { type Campaigns, contributorLeaderboard } from '../../data/index.js';
import { type DataLeaderboardView, InvalidParameterError } from '../../protocol/index.js';

/**
 * `GET /api/data-leaderboard[?campaign=ID][&limit=N]` (issue 12; docs/data.md): contributors ranked by accepted
 * items and data earnings, by pseudonym, in one campaign or in all; the caller's own row is marked.
 */
export function dataLeaderboardRoutes(app: FastifyInstance, campaigns: Campaigns): void {
  app.get<{ Querystring: { campaign?: string; limit?: string } }>(
    '/api/data-leaderboard',
    async (request): Promise<DataLeaderboardView> => {
      const { campaign, limit } = request.query;
      const n = limit === undefined ? 100 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new InvalidParameterError('limit', "'limit' must be a whole number from 1 to 1000.");
      return contributorLeaderboard(campaigns, {
        campaign: campaign || null,
        caller: request.account ?? null,
        limit: n,
      });
    },
  );
}
