import type { IncomingMessage } from 'node:http';
import type { AgentState } from './agent-state.js';
import { HttpError } from './http-error.js';
import { type KvOperation, KvOperationError, type KvRecord } from './kv-table.js';

/** Consul's limit on the operations of one transaction. */
export const MAX_TXN_OPERATIONS = 64;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A key as `/v1/kv/` and `/v1/txn` show it: Value in base64, null when empty. */
export function kvEntry(record: KvRecord, withValue = true) {
  return {
    LockIndex: 0,
    Key: record.key,
    Flags: record.flags,
    Value: withValue ? (record.value.length === 0 ? null : record.value.toString('base64')) : null,
    CreateIndex: record.createIndex,
    ModifyIndex: record.modifyIndex,
  };
}

function indexParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new HttpError(400, `Invalid ${name} value`);
  return Number(value);
}

/** `PUT /v1/kv/<key>` (`?cas`, `?flags`): answers whether it was written. */
export function putKey(state: AgentState, key: string, query: URLSearchParams, value: Buffer): boolean {
  if (key === '') throw new HttpError(400, 'Missing key name');
  const cas = indexParam(query, 'cas');
  const op: KvOperation = {
    verb: cas === undefined ? 'set' : 'cas',
    key,
    value,
    flags: indexParam(query, 'flags') ?? 0,
    index: cas ?? 0,
  };
  return attempt(state, [op]);
}

/** `DELETE /v1/kv/<key>` (`?recurse`, `?cas`). */
export function deleteKey(state: AgentState, key: string, query: URLSearchParams): boolean {
  const cas = indexParam(query, 'cas');
  const verb = query.has('recurse') ? 'delete-tree' : cas === undefined ? 'delete' : 'delete-cas';
  if (verb !== 'delete-tree' && key === '') throw new HttpError(400, 'Missing key name');
  return attempt(state, [{ verb, key, value: Buffer.alloc(0), flags: 0, index: cas ?? 0 }]);
}

function attempt(state: AgentState, ops: KvOperation[]): boolean {
  try {
    state.transactKv(ops);
    return true;
  } catch (error) {
    if (error instanceof KvOperationError) return false;
    throw error;
  }
}

/** `PUT /v1/txn`: 200 with every result, or 409 with the failures (and nothing applied). */
export function transaction(state: AgentState, body: unknown): { status: number; body: unknown } {
  if (!Array.isArray(body)) throw new HttpError(400, 'Failed to parse body: expected an array of operations');
  if (body.length > MAX_TXN_OPERATIONS) {
    throw new HttpError(413, `Transaction contains too many operations (${body.length} > ${MAX_TXN_OPERATIONS})`);
  }
  const ops = body.map((item: { KV?: Record<string, unknown> }, at): KvOperation => {
    const kv = item?.KV;
    if (!kv || typeof kv.Verb !== 'string' || typeof kv.Key !== 'string') {
      throw new HttpError(400, `Failed to parse body: operation ${at} is not a KV operation with Verb and Key`);
    }
    return {
      verb: kv.Verb,
      key: kv.Key,
      value: typeof kv.Value === 'string' ? Buffer.from(kv.Value, 'base64') : Buffer.alloc(0),
      flags: typeof kv.Flags === 'number' ? kv.Flags : 0,
      index: typeof kv.Index === 'number' ? kv.Index : 0,
    };
  });
  try {
    const results = state.transactKv(ops);
    const shown = results.flatMap((result, at) => {
      if (result === null) return [];
      const reads = ops[at]?.verb === 'get' || ops[at]?.verb === 'get-tree';
      return (Array.isArray(result) ? result : [result]).map((r) => ({ KV: kvEntry(r, reads) }));
    });
    return { status: 200, body: { Results: shown, Errors: null } };
  } catch (error) {
    if (!(error instanceof KvOperationError)) throw error;
    const opIndex = (error as KvOperationError & { opIndex?: number }).opIndex ?? 0;
    return { status: 409, body: { Results: null, Errors: [{ OpIndex: opIndex, What: error.message }] } };
  }
}
