/** The link closed (or was never up) while a request waited on it. */
export class LinkClosedError extends Error {
  override name = 'LinkClosedError';
}

/** The other bridge broke the link protocol (no hello first, a wrong id, a bad advert). */
export class LinkProtocolError extends Error {
  override name = 'LinkProtocolError';
}

/** The bridge at an address is not the one we were told to expect, or could not prove it. */
export class BridgeIdentityError extends Error {
  override name = 'BridgeIdentityError';
}

/** A request across links did not get its answer in time. */
export class LinkTimeoutError extends Error {
  override name = 'LinkTimeoutError';
}

/** The federation was configured with something it cannot use; the message says what. */
export class FederationConfigError extends Error {
  override name = 'FederationConfigError';
}

/** The federation port could not be bound (in use, no such address). */
export class FederationListenError extends Error {
  override name = 'FederationListenError';
}
