import type { FastifyInstance } from 'fastify';
import { isAddress } from 'viem';
import { type ChainLink, hashOfReport, treeOfReport } from '../../chain/index.js';
import type { Ledger } from '../../ledger/index.js';
import {
  type ChainView,
  type EpochProofView,
  InvalidParameterError,
  NotFoundError,
  type PublishedEpochView,
  type WithdrawalVoucherView,
} from '../../protocol/index.js';

/**
 * Public chain routes: a closed epoch's reward proofs (the report they come from is public too), and where
 * the contracts live. Proofs are served whether or not the router is linked to a chain.
 */
export function chainRoutes(
  app: FastifyInstance,
  services: { ledger: Ledger; chain: ChainLink | undefined },
) {
  app.get<{ Params: { epoch: string; account: string } }>(
    '/api/epochs/:epoch/proof/:account',
    async (request): Promise<EpochProofView> => {
      const { epoch: text, account } = request.params;
      const epoch = Number(text);
      if (!Number.isSafeInteger(epoch) || epoch < 1)
        throw new InvalidParameterError('epoch', `epoch must be a whole number from 1, got '${text}'.`);
      if (!isAddress(account, { strict: false }))
        throw new InvalidParameterError('account', `account must be an 0x address, got '${account}'.`);
      const report = services.ledger.epochs.report(epoch);
      if (!report) throw new NotFoundError('epoch', `No closed epoch ${epoch}.`);
      const tree = treeOfReport(report);
      const found = tree.proof(account);
      if (!found) throw new NotFoundError('account', `${account} earned nothing in epoch ${epoch}.`);
      return {
        epoch,
        index: found.leaf.index,
        account: found.leaf.account,
        amount: found.leaf.amount.toString(),
        proof: found.proof,
        root: tree.root,
      };
    },
  );

  app.get<{ Params: { epoch: string } }>(
    '/api/epochs/:epoch/published',
    async (request): Promise<PublishedEpochView> => {
      const epoch = Number(request.params.epoch);
      const report = Number.isSafeInteger(epoch) ? services.ledger.epochs.report(epoch) : undefined;
      if (!report) throw new NotFoundError('epoch', `No closed epoch '${request.params.epoch}'.`);
      return {
        epoch,
        report_hash: hashOfReport(report),
        root: treeOfReport(report).root,
        rewards: report.rewards.map((r) => ({
          node: r.node,
          account: r.account,
          amount: r.amount.toString(),
        })),
      };
    },
  );

  app.get('/api/chain', async (): Promise<ChainView> => {
    const client = services.chain?.client;
    const d = client?.deployment;
    if (!client || !d)
      throw new NotFoundError('chain', 'This router is not linked to a chain (start it with --chain-rpc).');
    return {
      chain_id: d.chainId,
      rpc: client.rpc,
      last_closed_epoch: services.ledger.epochs.current().epoch - 1,
      token: d.token,
      staking: d.staking,
      rewards: d.rewards,
      vault: d.vault,
    };
  });
}

/**
 * `POST /api/withdrawals/{id}/voucher` (the withdrawal's owner): holds a pending ledger withdrawal for a Vault
 * voucher; it settles when the Vault's Withdrawn event is confirmed. Asking again re-signs it with a new
 * deadline and the same nonce, so a lost or expired voucher is never lost money and only one ever pays.
 */
export function chainAccountRoutes(
  app: FastifyInstance,
  services: { ledger: Ledger; chain: ChainLink | undefined },
) {
  app.post<{ Params: { id: string } }>(
    '/api/withdrawals/:id/voucher',
    async (request): Promise<WithdrawalVoucherView> => {
      const { ledger, chain } = services;
      if (!chain)
        throw new NotFoundError('chain', 'This router is not linked to a chain (start it with --chain-rpc).');
      const found = ledger.withdrawals.get(request.params.id);
      if (!found || (!request.operator && found.account !== request.account))
        throw new NotFoundError('withdrawal', `No withdrawal '${request.params.id}' for this key.`);
      const v = await chain.issueVoucher(found);
      return {
        withdrawal: found.id,
        account: v.account,
        amount: v.amount.toString(),
        nonce: v.nonce.toString(),
        deadline: Number(v.deadline),
        signature: v.signature,
        vault: chain.client.deployment.vault,
        chain_id: chain.client.deployment.chainId,
      };
    },
  );
}
