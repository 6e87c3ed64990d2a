export { loadIdentity } from './identity.js';
export { gatewayUrl, RouterLink } from './link.js';
export { type NodeConfig, nodeConfig, type RunningNode, startNode } from './main.js';
export { probeHardware } from './probe.js';
export { Runner } from './runner.js';
