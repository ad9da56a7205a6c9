import type { Http2Session } from 'node:http2';
import { http2SessionOfCall } from './call-internals.js';

/** Per-stream and per-connection receive windows: large enough for bulk messages to stream. */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

const widened = new WeakSet<Http2Session>();

/**
 * grpc-js lets a client choose its receive window ('grpc-node.flow_control_window') but gives
 * a server no such option, so a server stays at HTTP/2's 64 KiB default and a sender waits
 * for a window update every 64 KiB. This reaches the server call's HTTP/2 session and
 * widens its windows once. If grpc-js internals change it does nothing: only speed suffers.
 */
export function widenServerWindows(call: unknown): void {
  const session = http2SessionOfCall(call);
  if (!session || widened.has(session) || session.destroyed) return;
  widened.add(session);
  try {
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    session.settings({ initialWindowSize: STREAM_WINDOW_BYTES });
  } catch {
    // Older Node or a closing session: keep the defaults.
  }
}
