import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type Campaigns,
  campaignView,
  exportView,
  itemStatusView,
  leaseBatch,
  standingView,
  submitResults,
  uploadFile,
  uploadLines,
} from '../../data/index.js';
import { formatAmount } from '../../ledger/index.js';
import {
  type CampaignView,
  type DataBatchView,
  type ExportView,
  ForbiddenError,
  InvalidParameterError,
  type ItemStatusView,
  type ListView,
  NotFoundError,
  type ReviewerStandingView,
  type ReviewSubmitView,
  type UploadOutcomeView,
  type UploadView,
} from '../../protocol/index.js';
import type { CampaignPreReview } from './campaign-prereview.js';

/** The account the key acts for: campaigns pay and are paid by addresses, so a key needs one. */
function accountOf(request: FastifyRequest): string {
  if (!request.account)
    throw new ForbiddenError(
      'Data campaigns need an account: create a key with `otensor-cli keys create --account ADDRESS`, or log in with your wallet.',
    );
  return request.account;
}

const uploadView = (items: UploadOutcomeView[]): UploadView => ({
  object: 'upload',
  accepted: items.filter((i) => i.accepted).length,
  refused: items.filter((i) => !i.accepted).length,
  items,
});

type Id = { Params: { id: string } };

/**
 * Data campaigns under /api/campaigns (issue 12; docs/data.md): create, list, show, close; streamed uploads
 * (a raw file body, or JSONL with one record a line); the caller's item states; leased review batches and
 * their results; raw items for the owner and assigned reviewers only; the export manifest for the owner.
 */
export function campaignRoutes(
  app: FastifyInstance,
  campaigns: Campaigns,
  prereview?: CampaignPreReview,
): void {
  // Machine pre-review's opinions beside the items a contributor or a reviewer sees (docs/data.md).
  const withOpinions = <T extends { id: string }>(campaign: string, items: T[]): T[] => {
    if (!prereview || !campaigns.store.campaign(campaign)?.settings.prereview) return items;
    const opinions = prereview.store.opinions(items.map((i) => i.id));
    return items.map((i) => ({ ...i, machine_opinion: opinions.get(i.id) ?? null }));
  };

  app.post('/api/campaigns', async (request, reply): Promise<CampaignView> => {
    const body = request.body as { prereview?: unknown; kind?: unknown; instructions?: unknown } | undefined;
    const instructions = typeof body?.instructions === 'string' ? body.instructions : '';
    const settings =
      prereview && typeof body?.prereview === 'string'
        ? prereview.settingsFor(body.prereview, String(body.kind), instructions, request.keyId)
        : undefined;
    const campaign = campaigns.create(accountOf(request), request.body, settings);
    await campaigns.ledger.sync();
    if (settings)
      prereview?.start(
        campaign.id,
        campaigns.store.items(campaign.id, { states: ['gold'] }).map((i) => i.id),
      );
    reply.code(201);
    return campaignView(campaigns, campaign);
  });

  app.get(
    '/api/campaigns',
    async (): Promise<ListView<CampaignView>> => ({
      object: 'list',
      data: campaigns.store.campaigns().map((c) => campaignView(campaigns, c)),
    }),
  );

  app.get<Id>(
    '/api/campaigns/:id',
    async (request): Promise<CampaignView> => campaignView(campaigns, campaigns.get(request.params.id)),
  );

  app.post<Id>('/api/campaigns/:id/close', async (request): Promise<CampaignView> => {
    const campaign = campaigns.close(request.params.id, request.account, request.operator);
    await campaigns.ledger.sync();
    return campaignView(campaigns, campaign);
  });

  app.get<Id>('/api/campaigns/:id/items', async (request): Promise<ListView<ItemStatusView>> => {
    const campaign = campaigns.get(request.params.id);
    const items = campaigns.store.items(campaign.id, { contributor: accountOf(request) });
    const data = items
      .filter((i) => i.state !== 'gold')
      .map((i) => itemStatusView(i, campaigns.answers.final(i.id)));
    return { object: 'list', data: withOpinions(campaign.id, data) };
  });

  app.get<{ Params: { id: string; item: string } }>(
    '/api/campaigns/:id/items/:item/content',
    async (request, reply) => {
      const campaign = campaigns.get(request.params.id);
      // An item id, or (for export) its sha256 within the campaign.
      const wanted = request.params.item;
      const item = /^[0-9a-f]{64}$/.test(wanted)
        ? campaigns.store.itemBySha(campaign.id, wanted)
        : campaigns.store.item(wanted);
      if (!item || item.campaignId !== campaign.id)
        throw new NotFoundError('item', `No item '${request.params.item}' in ${campaign.id}.`);
      const caller = accountOf(request);
      // Raw items are the contributors' data: the requester's, and the reviewers' it was assigned to.
      if (caller !== campaign.owner && !campaigns.reviews.isAssigned(item.id, caller))
        throw new ForbiddenError(
          `Only the campaign's owner and the reviewers assigned to item ${item.id} may read it.`,
          'item',
        );
      reply.header(
        'content-type',
        item.kind === 'text' || item.kind === 'jsonl'
          ? 'text/plain; charset=utf-8'
          : 'application/octet-stream',
      );
      reply.header('x-omnitensor-sha256', item.sha256);
      return reply.send(campaigns.blobs.read(item.sha256));
    },
  );

  app.post<Id & { Body: { size?: unknown } }>(
    '/api/campaigns/:id/batches',
    async (request): Promise<DataBatchView> => {
      const size = (request.body as { size?: unknown } | undefined)?.size;
      if (size !== undefined && !(Number.isInteger(size) && (size as number) >= 1 && (size as number) <= 500))
        throw new InvalidParameterError('size', "'size' must be a whole number from 1 to 500.");
      const batch = leaseBatch(campaigns, request.params.id, accountOf(request), size as number | undefined);
      return { ...batch, items: withOpinions(request.params.id, batch.items) };
    },
  );

  app.post<Id>('/api/campaigns/:id/reviews', async (request): Promise<ReviewSubmitView> => {
    const view = submitResults(campaigns, request.params.id, accountOf(request), request.body);
    await campaigns.ledger.sync();
    return view;
  });

  // The caller's own standing as a reviewer (the web review page shows it); nobody else's.
  app.get<Id>(
    '/api/campaigns/:id/reviewers/me',
    async (request): Promise<ReviewerStandingView> =>
      standingView(campaigns, campaigns.get(request.params.id), accountOf(request)),
  );

  app.get<Id>('/api/campaigns/:id/export', async (request): Promise<ExportView> => {
    const campaign = campaigns.get(request.params.id);
    if (campaign.owner !== request.account && !request.operator)
      throw new ForbiddenError(
        `Only the campaign's owner (${campaign.owner}) may export its dataset.`,
        'campaign',
      );
    return exportView(campaigns, campaign);
  });

  app.get<{ Params: { wallet: string } }>('/api/data-rewards/:wallet', async (request) => {
    const wallet = request.params.wallet.toLowerCase();
    if (wallet !== request.account && !request.operator)
      throw new ForbiddenError('A key may read only its own data rewards.', 'wallet');
    const r = campaigns.rewardsOf(wallet);
    return {
      object: 'data_rewards',
      wallet,
      contributions: formatAmount(r.contributions),
      reviews: formatAmount(r.reviews),
      items_paid: r.itemsPaid,
      reviews_paid: r.reviewsPaid,
    };
  });

  // Uploads stream: the body reaches the handler unread, and is hashed and written as it arrives.
  app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/octet-stream', 'application/x-ndjson'],
      (_request, payload, done) => done(null, payload),
    );
    scope.post<Id & { Querystring: { name?: string } }>(
      '/api/campaigns/:id/items',
      async (request): Promise<UploadView> => {
        const contributor = accountOf(request);
        const body = request.body as AsyncIterable<Buffer> | undefined;
        if (
          !body ||
          typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function'
        )
          throw new InvalidParameterError(
            'body',
            'Upload an item as application/octet-stream, or records as application/x-ndjson (one JSON record a line).',
          );
        const name = typeof request.query.name === 'string' ? request.query.name.slice(0, 300) : null;
        const jsonl = (request.headers['content-type'] ?? '').startsWith('application/x-ndjson');
        const outcomes = jsonl
          ? await uploadLines(campaigns, request.params.id, contributor, name, body)
          : [await uploadFile(campaigns, request.params.id, contributor, name, body)];
        await campaigns.ledger.sync();
        prereview?.start(
          request.params.id,
          outcomes.flatMap((o) => (o.accepted && o.id ? [o.id] : [])),
        );
        return uploadView(outcomes);
      },
    );
  });
}
