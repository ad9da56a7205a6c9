import { byteOrder } from './agent-state.js';

/** One key as Consul's KV store keeps it. */
export interface KvRecord {
  key: string;
  value: Buffer;
  flags: number;
  createIndex: number;
  modifyIndex: number;
}

/** One operation of `/v1/txn` (KV verbs only), decoded. */
export interface KvOperation {
  verb: string;
  key: string;
  value: Buffer;
  flags: number;
  index: number;
}

/** Why an operation of a transaction failed, as Consul words it. */
export class KvOperationError extends Error {}

/**
 * The KV store: keys in byte order, each with the index of the write that created it and of
 * the last one. A transaction applies to a copy and replaces the table only when every
 * operation took, so it is all or nothing; all its writes carry the one index given.
 */
export class KvTable {
  #records = new Map<string, KvRecord>();
  /** Deleted keys and the index of their deletion, as Consul's tombstones (never reaped here). */
  #tombstones = new Map<string, number>();

  get(key: string): KvRecord | undefined {
    return this.#records.get(key);
  }

  prefixed(prefix: string): KvRecord[] {
    return [...this.#records.values()].filter((r) => r.key.startsWith(prefix)).sort((a, b) => byteOrder(a.key, b.key));
  }

  /**
   * Consul's index for a read of `prefix` (the key itself for a single read): the highest ModifyIndex among
   * the keys under it and their tombstones; 0 when nothing was ever written there.
   */
  indexOf(prefix: string): number {
    let index = 0;
    for (const r of this.#records.values()) if (r.key.startsWith(prefix)) index = Math.max(index, r.modifyIndex);
    for (const [key, at] of this.#tombstones) if (key.startsWith(prefix)) index = Math.max(index, at);
    return index;
  }

  /** Applies the operations at `index`; returns each one's result, or throws (nothing applied). */
  transact(operations: readonly KvOperation[], index: number): (KvRecord | KvRecord[] | null)[] {
    const next = { records: new Map(this.#records), tombstones: new Map(this.#tombstones) };
    const results = operations.map((op, at) => {
      try {
        return apply(next, op, index);
      } catch (error) {
        if (error instanceof KvOperationError) throw Object.assign(error, { opIndex: at });
        throw error;
      }
    });
    this.#records = next.records;
    this.#tombstones = next.tombstones;
    return results;
  }
}

interface Tables {
  readonly records: Map<string, KvRecord>;
  readonly tombstones: Map<string, number>;
}

function apply(tables: Tables, op: KvOperation, index: number): KvRecord | KvRecord[] | null {
  const table = tables.records;
  const current = table.get(op.key);
  const remove = (key: string) => {
    if (table.delete(key)) tables.tombstones.set(key, index);
  };
  const write = (): KvRecord => {
    const record = {
      key: op.key,
      value: op.value,
      flags: op.flags,
      createIndex: current?.createIndex ?? index,
      modifyIndex: index,
    };
    table.set(op.key, record);
    return record;
  };
  const matches = () => (op.index === 0 ? current === undefined : current?.modifyIndex === op.index);
  switch (op.verb) {
    case 'set':
      return write();
    case 'cas':
      if (!matches()) throw new KvOperationError(`failed to set key "${op.key}", index is stale`);
      return write();
    case 'get':
      if (!current) throw new KvOperationError(`key "${op.key}" doesn't exist`);
      return current;
    case 'get-tree':
      return [...table.values()].filter((r) => r.key.startsWith(op.key)).sort((a, b) => byteOrder(a.key, b.key));
    case 'check-index':
      if (!current) throw new KvOperationError(`failed to check index, key "${op.key}" doesn't exist`);
      if (current.modifyIndex !== op.index)
        throw new KvOperationError(`current modify index ${current.modifyIndex} != ${op.index}`);
      return current;
    case 'check-not-exists':
      if (current) throw new KvOperationError(`key "${op.key}" exists`);
      return null;
    case 'delete':
      remove(op.key);
      return null;
    case 'delete-tree':
      for (const key of [...table.keys()]) if (key.startsWith(op.key)) remove(key);
      return null;
    case 'delete-cas':
      // Consul's kvsDeleteCASTxn: deleting a key that is already gone succeeds, whatever the index.
      if (current && current.modifyIndex !== op.index)
        throw new KvOperationError(`failed to delete key "${op.key}", index is stale`);
      remove(op.key);
      return null;
    default:
      throw new KvOperationError(`unknown KV verb "${op.verb}"`);
  }
}
