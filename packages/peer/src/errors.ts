/** Errors the peer raises. Callers test `err.name`, never the message text. */

export class PeerError extends Error {
  override name = 'PeerError';
}

/** A peer's key does not hash to the id it claims, or its record is not signed by that key. */
export class IdentityMismatchError extends PeerError {
  override name = 'IdentityMismatchError';
}

/** The configuration is missing something or has a wrong value; the message says what to do. */
export class ConfigError extends PeerError {
  override name = 'ConfigError';
}

export class MessageTooLargeError extends PeerError {
  override name = 'MessageTooLargeError';
}

export class UnknownPeerError extends PeerError {
  override name = 'UnknownPeerError';
}

/** A sealed payload did not authenticate: tampered, truncated or sealed for someone else. */
export class UnsealError extends PeerError {
  override name = 'UnsealError';
}

export class PeerStoppedError extends PeerError {
  override name = 'PeerStoppedError';
}

/** The identity files in the data dir exist but cannot be used. */
export class IdentityFileError extends PeerError {
  override name = 'IdentityFileError';
}

/** A port the peer was told to listen on is taken. */
export class PortInUseError extends PeerError {
  override name = 'PortInUseError';
}

/** Nobody answered as a peer at an address (not running, wrong port, or unreachable). */
export class PeerUnreachableError extends PeerError {
  override name = 'PeerUnreachableError';
}
