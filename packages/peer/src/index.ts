export {
  parseChoice,
  parseConsulAgent,
  parseConsulKeyPrefix,
  parseHost,
  parseInterfaceName,
  parseName,
  parsePath,
  parsePort,
  type Setting,
} from './cli/config-values.js';
export { discoveryOf, type SettingSource } from './cli/discovery-config.js';
export { optionLines, readFlagsOf } from './cli/flag-table.js';
export { createLogger, type LoggerSettings } from './cli/logger.js';
export { LOG_LEVELS, type LogLevel, MULTICAST_FAMILIES, type OptionSpec } from './cli/options.js';
export { PeerAnnouncementSigner, type SignerHost } from './discovery/announcement-signer.js';
export * from './errors.js';
export { createIdentityCertificate } from './identity/certificate.js';
export {
  MAX_ADDRESSES,
  MAX_NAME_LENGTH,
  signIdentityRecord,
  verifyIdentityRecord,
} from './identity/identity-record.js';
export { type LocalIdentity, loadOrCreateIdentity } from './identity/local-identity.js';
export { fingerprintOf, isPeerId, peerIdFromSigningKey } from './identity/peer-id.js';
export type { PeerEvents, PeerOptions, PeerSelf, PeerSummary, SessionInfo, StateChange } from './peer.js';
export { DEFAULT_MAX_MESSAGE_BYTES, Peer } from './peer.js';
export { PairSealer } from './sealing/pair-sealer.js';
export type { MessageRecord, MessageStateName } from './store/records.js';
export { directConversationId } from './store/records.js';
export { http2SessionOfCall } from './transport/call-internals.js';
export { createFrameCodec, SESSION_PATH } from './transport/frame-codec.js';
export { greet, identify } from './transport/greeting.js';
export {
  PeerServerCredentials,
  peerIdOfCertificate,
  pinnedChannelCredentials,
  pinnedChannelOptions,
} from './transport/tls-credentials.js';
export { compiledSibling } from './util/compiled-path.js';
export { loopbackFor, probeHealth } from './util/health-probe.js';
export { untilStopSignal } from './util/stop-signal.js';
export { openEventStream } from './web/event-stream.js';
export { drainRefusedBodies, type RefusedBodyLimits } from './web/refused-bodies.js';
export {
  DEFAULT_TICKET_TTL_MS,
  issueTicket,
  MAX_TICKET_TTL_MS,
  redeemTicket,
  type TicketClaims,
  TicketError,
  UsedTickets,
} from './web/ticket.js';
