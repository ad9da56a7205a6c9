import type { AgentState } from './agent-state.js';
import { byteOrder } from './agent-state.js';
import { kvEntry } from './kv-api.js';

/** What a `GET /v1/kv/<key>` answers, before headers: a status, a body and the index it reflects. */
export interface KvRead {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly index: number;
}

const NOT_FOUND = { status: 404, contentType: 'text/plain; charset=utf-8', body: '' } as const;

/** Key names under `prefix`, each cut after the first `separator` past the prefix, as `?keys` lists them. */
function keyNames(state: AgentState, prefix: string, separator: string): string[] {
  const names = new Set<string>();
  for (const { key } of state.kv.prefixed(prefix)) {
    const at = separator === '' ? -1 : key.indexOf(separator, prefix.length);
    names.add(at === -1 ? key : key.slice(0, at + separator.length));
  }
  return [...names].sort(byteOrder);
}

/**
 * Reads as Consul's KVS endpoint does. The index is the key's ModifyIndex, or for `?recurse` and `?keys` the
 * highest ModifyIndex (tombstones included) under the prefix; when nothing was ever written there, the
 * stand-in's one index stands in for Consul's KV table index.
 */
export function readKv(state: AgentState, key: string, query: URLSearchParams): KvRead {
  const fallback = state.index;
  if (query.has('keys')) {
    const names = keyNames(state, key, query.get('separator') ?? '');
    const index = state.kv.indexOf(key) || fallback;
    // Consul answers the root with an empty list rather than a 404.
    if (names.length === 0 && key !== '') return { ...NOT_FOUND, index };
    return { status: 200, contentType: 'application/json', body: JSON.stringify(names), index };
  }
  if (query.has('recurse')) {
    const records = state.kv.prefixed(key);
    const index = state.kv.indexOf(key) || fallback;
    if (records.length === 0) return { ...NOT_FOUND, index };
    const body = JSON.stringify(records.map((record) => kvEntry(record)));
    return { status: 200, contentType: 'application/json', body, index };
  }
  const record = state.kv.get(key);
  if (!record) return { ...NOT_FOUND, index: fallback };
  if (query.has('raw')) {
    return { status: 200, contentType: 'application/octet-stream', body: record.value, index: record.modifyIndex };
  }
  const body = JSON.stringify([kvEntry(record)]);
  return { status: 200, contentType: 'application/json', body, index: record.modifyIndex };
}
