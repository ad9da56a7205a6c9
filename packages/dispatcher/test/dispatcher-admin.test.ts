import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

interface AdminPeer {
  id: string;
  state: string;
  owner: string | null;
  healthy: boolean;
  ageS: number;
  instance: string;
}

describe('the dispatcher: admin, operations and the peers’ catalog', () => {
  const dispatchers = new TestDispatchers();
  afterEach(() => dispatchers.cleanup());

  it('admin: needs the credentials and, to change anything, its header; lists, retargets, releases and removes', async () => {
    const d = await dispatchers.start(['--pool', '2']);
    await vacantPeers(d, 2);
    const auth = { authorization: `Basic ${Buffer.from(`admin:${d.adminPassword}`).toString('base64')}` };
    const wrong = { authorization: `Basic ${Buffer.from('admin:guess').toString('base64')}` };
    const api = (path: string, init: RequestInit = {}) => fetch(`${d.url}${path}`, init);
    expect((await api('/admin')).status).toBe(401);
    expect((await api('/admin')).headers.get('www-authenticate')).toContain('Basic');
    expect((await api('/admin/api/peers', { headers: wrong })).status).toBe(401);
    const page = await api('/admin', { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="admin-peers"');

    const web = new WebClient(d.url);
    await web.post('/signup', { _csrf: await web.csrf(), username: 'ada', password: 'a long password' });
    const list = async () =>
      (await (await api('/admin/api/peers', { headers: auth })).json()) as {
        pool: { target: number };
        peers: AdminPeer[];
      };
    const claimed = (await list()).peers.find((p) => p.state === 'claimed') as AdminPeer;
    expect(claimed).toMatchObject({ owner: 'ada', healthy: true, instance: 'running' });
    expect(claimed.ageS).toBeGreaterThanOrEqual(0);

    // Without the header (as a cross-site form would post), nothing changes.
    expect((await api(`/admin/api/peers/${claimed.id}/release`, { method: 'POST', headers: auth })).status).toBe(403);
    const change = { ...auth, 'x-p2pm-admin': '1' };
    const badTarget = await api('/admin/api/pool', {
      method: 'PUT',
      headers: { ...change, 'content-type': 'application/json' },
      body: '{"target":-1}',
    });
    expect(badTarget.status).toBe(400);
    const retarget = await api('/admin/api/pool', {
      method: 'PUT',
      headers: { ...change, 'content-type': 'application/json' },
      body: '{"target":1}',
    });
    expect(await retarget.json()).toMatchObject({ target: 1 });

    // Release: Ada's next visit gets another peer; the old one is stopped, its data kept.
    expect((await api(`/admin/api/peers/${claimed.id}/release`, { method: 'POST', headers: change })).status).toBe(200);
    expect((await list()).peers.map((p) => p.id)).not.toContain(claimed.id);
    const next = (await web.get('/go')).headers.get('location') ?? '';
    expect(next === '/starting' || !next.includes(claimed.id)).toBe(true);
    const dataDirs = join(d.dataDir, 'peers');
    // Remove: stopped and its data deleted.
    await vacantPeers(d, 1);
    const vacant = (await list()).peers.find((p) => p.state === 'vacant') as AdminPeer;
    const instanceDir = join(dataDirs, (await d.app.dispatcher.catalog.get(vacant.id))?.instanceId as string);
    expect(existsSync(instanceDir)).toBe(true);
    expect((await api(`/admin/api/peers/${vacant.id}`, { method: 'DELETE', headers: change })).status).toBe(200);
    expect(existsSync(instanceDir)).toBe(false);
    expect((await api(`/admin/api/peers/${vacant.id}`, { method: 'DELETE', headers: change })).status).toBe(404);
  });

  it('answers /healthz, /readyz and Prometheus /metrics with pool, claims, spawns and logins', async () => {
    const d = await dispatchers.start(['--pool', '1']);
    expect(await (await fetch(`${d.url}/healthz`)).json()).toEqual({ status: 'ok' });
    await expect.poll(async () => (await fetch(`${d.url}/readyz`)).status).toBe(200);
    await vacantPeers(d, 1);
    const web = new WebClient(d.url);
    await web.post('/guest', { _csrf: await web.csrf() });
    await web.post('/login', { _csrf: await web.csrf(), username: 'nobody', password: 'not a password' });
    // Not for anyone: the admin's credentials (Prometheus sends them as basic_auth).
    expect((await fetch(`${d.url}/metrics`)).status).toBe(401);
    const wrong = { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` };
    expect((await fetch(`${d.url}/metrics`, { headers: wrong })).status).toBe(401);
    const admin = { authorization: `Basic ${Buffer.from(`admin:${d.adminPassword}`).toString('base64')}` };
    const metrics = await fetch(`${d.url}/metrics`, { headers: admin });
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^p2pm_pool_peers\{state="target"\} 1$/m);
    expect(text).toMatch(/^p2pm_pool_peers\{state="claimed"\} 1$/m);
    expect(text).toMatch(/^p2pm_claims_total\{outcome="warm"\} 1$/m);
    expect(text).toMatch(/^p2pm_logins_total\{kind="guest",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^p2pm_logins_total\{kind="password",outcome="refused"\} 1$/m);
    expect(text).toMatch(/^p2pm_peer_spawn_seconds_count [1-9]/m);
    expect(text).toMatch(/^p2pm_dispatcher_process_resident_memory_bytes \d+/m);
  });

  it('serves /metrics on a port of its own when given one, and then not on the public port', async () => {
    const d = await dispatchers.start(['--pool', '0', '--metrics-port', '0', '--metrics-host', '127.0.0.1']);
    const address = d.app.dispatcher.metricsListener?.address();
    expect(address?.port).toBeGreaterThan(0);
    const scraped = await fetch(`http://127.0.0.1:${address?.port}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^p2pm_pool_peers\{state="target"\} 0$/m);
    // Nothing else there; and on the public port, no /metrics even for the admin.
    expect((await fetch(`http://127.0.0.1:${address?.port}/admin`)).status).toBe(404);
    const admin = { authorization: `Basic ${Buffer.from(`admin:${d.adminPassword}`).toString('base64')}` };
    expect((await fetch(`${d.url}/metrics`, { headers: admin })).status).toBe(404);
    await d.close();
    // Closed with the dispatcher.
    await expect(fetch(`http://127.0.0.1:${address?.port}/metrics`)).rejects.toThrow();
  });

  it('refuses to start when the metrics port is taken, saying which flag to change', async () => {
    const taken = await dispatchers.start(['--pool', '0', '--metrics-port', '0']);
    const port = taken.app.dispatcher.metricsListener?.address()?.port as number;
    await expect(dispatchers.start(['--pool', '0', '--metrics-port', String(port)])).rejects.toThrow(
      `the metrics port ${port} on 127.0.0.1 cannot be used (EADDRINUSE): pass another --metrics-port`,
    );
  });

  it('serves its peers the claimed, healthy peers with blocking queries, to the token only', async () => {
    const d = await dispatchers.start(['--pool', '2']);
    await vacantPeers(d, 2);
    const catalog = (query = '', token = d.catalogToken) =>
      fetch(`${d.url}/catalog/v1/peers${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await fetch(`${d.url}/catalog/v1/peers`)).status).toBe(401);
    expect((await catalog('', 'wrong')).status).toBe(401);
    const before = (await (await catalog()).json()) as { index: number; peers: unknown[] };
    // Vacant peers are nobody's yet: not listed.
    expect(before.peers).toEqual([]);
    // A blocking query returns as soon as someone claims a peer. (Also, as Consul's may, when
    // something else of the catalog changed, a vacant peer's health say: the client asks again.)
    type Answer = { index: number; peers: { id: string; addresses: string[] }[] };
    const started = Date.now();
    const untilListed = async (index: number): Promise<Answer> => {
      const answer = (await (await catalog(`?index=${index}&wait=20000`)).json()) as Answer;
      expect(answer.index).toBeGreaterThan(index);
      return answer.peers.length > 0 || Date.now() - started > 20_000 ? answer : untilListed(answer.index);
    };
    const blocked = untilListed(before.index);
    const web = new WebClient(d.url);
    await web.post('/guest', { _csrf: await web.csrf() });
    const after = await blocked;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(after.index).toBeGreaterThan(before.index);
    expect(after.peers).toHaveLength(1);
    expect(after.peers[0]?.addresses).toEqual(['127.0.0.1']);
    // The user's peer sees it; a spare peer of the pool, which nobody owns, sees nobody.
    const claimedId = after.peers[0]?.id as string;
    const spare = (await d.app.dispatcher.catalog.list()).find((p) => p.state === 'vacant')?.id as string;
    const viewOf = async (peer: string) =>
      ((await (await catalog(`?peer=${peer}`)).json()) as { peers: { id: string }[] }).peers.map((p) => p.id);
    expect(await viewOf(claimedId)).toEqual([claimedId]);
    expect(await viewOf(spare)).toEqual([]);
    // With nothing changing, it waits as long as asked.
    const idle = Date.now();
    const latest = (await (await catalog()).json()) as { index: number };
    await catalog(`?index=${latest.index}&wait=600`);
    expect(Date.now() - idle).toBeGreaterThanOrEqual(550);
  });
});
