/** A directory was configured in a way that cannot work; the message says what to change. */
export class DiscoveryConfigError extends Error {
  override name = 'DiscoveryConfigError';
}

/** A directory could not start (its socket or its catalog refused). */
export class DiscoveryStartError extends Error {
  override name = 'DiscoveryStartError';
}

/** The key to check an announcement with cannot be had now; a later announcement is tried. */
export class KeyUnavailableError extends Error {
  override name = 'KeyUnavailableError';
}

/** The peer catalog refused this peer's token (HTTP 401): it is missing or wrong. */
export class CatalogTokenError extends Error {
  override name = 'CatalogTokenError';
}

/** The peer catalog gave no usable answer: unreachable, too slow, an HTTP error or a malformed body. */
export class CatalogUnavailableError extends Error {
  override name = 'CatalogUnavailableError';
}
