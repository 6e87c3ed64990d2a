export { TextBatcher } from './batcher.js';
export { loadIdentity } from './identity.js';
export { gatewayUrl, RouterLink } from './link.js';
export { type NodeConfig, type NodeOptions, nodeConfig, type RunningNode, startNode } from './main.js';
export { nvidiaSmi, probeHardware } from './probe.js';
export { Runner } from './runner.js';
export { chooseThreads, threadCandidates } from './threads.js';
