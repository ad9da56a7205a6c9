/** Writers can be reused across encodes (their buffer stays grown): for hot paths. */
export { BinaryWriter } from '@bufbuild/protobuf/wire';
export {
  BridgeIdentifyRequest,
  BridgeIdentifyResponse,
  FederationClient,
  type FederationServer,
  FederationService,
  LinkAnswer,
  LinkHello,
  LinkMessage,
  LinkRequest,
  OpenRelay,
  PeerAdvert,
  Refusal,
  RelayChunk,
  RouteUpdate,
} from './generated/p2pm/v1/bridge.js';
export {
  Announcement,
  Announcement_Kind as AnnouncementKind,
  RelayedPeer,
  SignedAnnouncement,
} from './generated/p2pm/v1/discovery.js';
export * from './generated/p2pm/v1/greeting.js';
export {
  Ack,
  AckBatch,
  AckStatus,
  ChatMessage,
  Content,
  Frame,
  MessageBatch,
  MessagingServiceClient,
  type MessagingServiceServer,
  MessagingServiceService,
  Receipt,
  ReceiptBatch,
  ReceiptKind,
  Resync,
} from './generated/p2pm/v1/messaging.js';

/** Bumped when a change to the wire protocol is not backwards compatible. */
export const PROTOCOL_VERSION = 1;
