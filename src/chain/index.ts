export { EpochAnchor, hashOfReport, treeOfReport } from './anchor.js';
export { EpochRewards, NodeStaking, OmniToken, Vault } from './artifacts/index.js';
export { ChainClient, type ChainClientInit, type OnChainRoot } from './client.js';
export {
  type ChainContracts,
  chainFor,
  DEFAULT_GENESIS,
  DEFAULT_SETTINGS,
  type Deployment,
  type DeployParameters,
  type DeploySettings,
  deployContracts,
  type GenesisAllocation,
  parseGenesis,
  writeDeployment,
} from './deploy.js';
export { DepositWatcher } from './deposits.js';
export {
  DEV_CHAIN_ID,
  type DevAccount,
  type DevChain,
  startDevChain,
  startInProcessChain,
} from './dev-chain.js';
export { readKeyFile } from './key-file.js';
export { ChainLink, type ChainLinkSettings } from './link.js';
export {
  buildRewardTree,
  leafHash,
  type RewardLeaf,
  type RewardTree,
  reportHash,
  verifyRewardProof,
} from './merkle.js';
export { chainNodeId, SlashForwarder, StakeMirror, slashEvidence } from './node-stakes.js';
export { asRevert, ChainRevertError, isRevert, revertName, withRetry } from './retry.js';
export { signVoucher, type WithdrawalVoucher, withdrawalNonce } from './vouchers.js';
