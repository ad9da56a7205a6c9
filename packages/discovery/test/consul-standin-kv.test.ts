import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from './helpers/consul-standin.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the Consul stand-in: KV and transactions', () => {
  let consul: ConsulStandIn;
  beforeEach(async () => {
    consul = await ConsulStandIn.start();
  });
  afterEach(() => consul.stop());

  const put = (key: string, value: string, query = '') =>
    fetch(`${consul.url}/v1/kv/${key}${query}`, { method: 'PUT', body: value }).then((r) => r.json());
  const get = (key: string, query = '') => fetch(`${consul.url}/v1/kv/${key}${query}`);
  const txn = (ops: unknown[]) =>
    fetch(`${consul.url}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));

  it('writes, reads and checks-and-sets keys as Consul does', async () => {
    expect((await get('a/x')).status).toBe(404);
    expect(await put('a/x', 'one', '?cas=0')).toBe(true);
    expect(await put('a/x', 'two', '?cas=0')).toBe(false);
    const [entry] = (await (await get('a/x')).json()) as { Value: string; ModifyIndex: number; CreateIndex: number }[];
    expect(Buffer.from(entry?.Value ?? '', 'base64').toString()).toBe('one');
    expect(await put('a/x', 'two', `?cas=${(entry?.ModifyIndex ?? 0) + 1}`)).toBe(false);
    expect(await put('a/x', 'two', `?cas=${entry?.ModifyIndex}`)).toBe(true);
    await put('a/y', 'three');
    await put('b/z', 'other');
    const tree = (await (await get('a/', '?recurse')).json()) as { Key: string }[];
    expect(tree.map((e) => e.Key)).toEqual(['a/x', 'a/y']);
    const del = await fetch(`${consul.url}/v1/kv/a/y?cas=1`, { method: 'DELETE' });
    expect(await del.json()).toBe(false);
    expect(consul.kv('a/')).toEqual([
      { key: 'a/x', value: 'two' },
      { key: 'a/y', value: 'three' },
    ]);
  });

  it('lists keys, reads raw values and reports the index of what matched', async () => {
    await put('k/a/1', 'x');
    await put('k/a/2', 'y');
    await put('k/b', '');
    expect(await (await get('k/', '?keys')).json()).toEqual(['k/a/1', 'k/a/2', 'k/b']);
    expect(await (await get('k/', '?keys&separator=/')).json()).toEqual(['k/a/', 'k/b']);
    expect((await get('none/', '?keys')).status).toBe(404);
    const raw = await get('k/a/1', '?raw');
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    expect(await raw.text()).toBe('x');
    const single = await get('k/a/1');
    const [entry] = (await single.json()) as { ModifyIndex: number }[];
    expect(Number(single.headers.get('x-consul-index'))).toBe(entry?.ModifyIndex);
    const [empty] = (await (await get('k/b')).json()) as { Value: unknown; ModifyIndex: number }[];
    expect(empty?.Value).toBeNull();
    const tree = await get('k/a/', '?recurse');
    expect(Number(tree.headers.get('x-consul-index'))).toBe((empty?.ModifyIndex ?? 0) - 1);
    const missing = await get('k/nothing');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
    expect(await (await fetch(`${consul.url}/v1/kv/`, { method: 'PUT', body: 'x' })).text()).toBe('Missing key name');
  });

  it('deletes with check-and-set, and the deletion moves the index of the prefix', async () => {
    await put('d/x', '1');
    const [entry] = (await (await get('d/x')).json()) as { ModifyIndex: number }[];
    const del = (query: string) => fetch(`${consul.url}/v1/kv/d/x${query}`, { method: 'DELETE' }).then((r) => r.json());
    expect(await del(`?cas=${(entry?.ModifyIndex ?? 0) + 5}`)).toBe(false);
    expect(consul.kv('d/')).toHaveLength(1);
    expect(await del(`?cas=${entry?.ModifyIndex}`)).toBe(true);
    expect(consul.kv('d/')).toEqual([]);
    const after = await get('d/', '?recurse');
    expect(after.status).toBe(404);
    expect(Number(after.headers.get('x-consul-index'))).toBeGreaterThan(entry?.ModifyIndex ?? 0);
  });

  it('keeps a blocking read of one key asleep while other keys change', async () => {
    await put('s/watched', '1');
    const index = Number((await get('s/watched')).headers.get('x-consul-index'));
    await put('s/other', '2');
    expect(consul.index).toBeGreaterThan(index);
    const started = Date.now();
    const pending = get('s/watched', `?index=${index}&wait=400ms`);
    await put('s/other', '3');
    const answer = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Number(answer.headers.get('x-consul-index'))).toBe(index);
    const woken = get('s/watched', `?index=${index}&wait=30s`);
    await put('s/watched', '4');
    expect(Number((await woken).headers.get('x-consul-index'))).toBeGreaterThan(index);
  });

  it('lets exactly one of fifty racing creates win', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put('lock', `w${i}`, '?cas=0')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('wakes a blocking read when the tree changes, and not before', async () => {
    await put('w/a', '1');
    const index = Number((await get('w/', '?recurse')).headers.get('x-consul-index'));
    const started = Date.now();
    const idle = await get('w/', `?recurse&index=${index}&wait=300ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Number(idle.headers.get('x-consul-index'))).toBe(index);
    const woken = get('w/', `?recurse&index=${index}&wait=30s`);
    await put('w/b', '2');
    const answer = await woken;
    expect(Number(answer.headers.get('x-consul-index'))).toBeGreaterThan(index);
    expect(((await answer.json()) as unknown[]).length).toBe(2);
  });

  it('applies a transaction all or nothing, its writes at one index', async () => {
    await put('t/taken', 'x');
    const failed = await txn([
      { KV: { Verb: 'set', Key: 't/a', Value: b64('1') } },
      { KV: { Verb: 'check-not-exists', Key: 't/taken' } },
    ]);
    expect(failed.status).toBe(409);
    expect(failed.body).toEqual({ Results: null, Errors: [{ OpIndex: 1, What: 'key "t/taken" exists' }] });
    expect(consul.kv('t/a')).toEqual([]);
    const done = await txn([
      { KV: { Verb: 'cas', Key: 't/a', Value: b64('1'), Index: 0 } },
      { KV: { Verb: 'set', Key: 't/b', Value: b64('2') } },
    ]);
    expect(done.status).toBe(200);
    const indexes = (done.body as { Results: { KV: { ModifyIndex: number } }[] }).Results.map((r) => r.KV.ModifyIndex);
    expect(new Set(indexes).size).toBe(1);
    const tooMany = await fetch(`${consul.url}/v1/txn`, {
      method: 'PUT',
      body: JSON.stringify(Array.from({ length: 65 }, (_, i) => ({ KV: { Verb: 'set', Key: `m/${i}` } }))),
    });
    expect(tooMany.status).toBe(413);
    expect(await tooMany.text()).toContain('too many operations (65 > 64)');
  });
});
