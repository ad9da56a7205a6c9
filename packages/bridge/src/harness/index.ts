/** Test and benchmark tooling (not part of the package's API): bridge processes on namespace LANs. */

export {
  type BridgeLanSide,
  BridgeProcess,
  type BridgeProcessOptions,
  bridgeArgs,
  DEFAULT_OPS_PORT,
  type ProcessExit,
} from './bridge-process.js';
export {
  type BridgedLan,
  BridgedLans,
  type BridgedLansInit,
  FEDERATION_PORT,
  LAB_MULTICAST,
  type LabMulticast,
  type LabPeer,
  type Topology,
  type WanLink,
} from './bridged-lans.js';
export { type ImpostorInit, ImpostorProcess } from './impostor-process.js';
export { MetricsText } from './metrics-text.js';
export { type HttpAnswer, NamespaceTunnel } from './namespace-tunnel.js';
