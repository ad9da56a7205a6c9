import type { Http2Session } from 'node:http2';

/**
 * The HTTP/2 session under a grpc-js server call. grpc-js does not expose it; this follows
 * its call chain (interceptors wrap the call that holds the stream). Undefined if grpc-js
 * internals change: callers must then do without (and say so loudly if it matters).
 */
export function http2SessionOfCall(call: unknown): Http2Session | undefined {
  let link = (call as { call?: unknown }).call as
    | { stream?: { session?: Http2Session }; nextCall?: unknown }
    | undefined;
  for (let depth = 0; link && !link.stream && depth < 8; depth++) link = link.nextCall as typeof link;
  return link?.stream?.session;
}
