import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Consul from 'consul';
import type { CheckOptions } from 'consul/lib/agent/check.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulStandIn, type HealthEntry } from './helpers/consul-standin.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStandIn(port?: number): Promise<ConsulStandIn> {
  const standIn = await ConsulStandIn.start(port === undefined ? {} : { port });
  cleanups.push(() => standIn.stop());
  return standIn;
}

function put(standIn: ConsulStandIn, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method: 'PUT' };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${standIn.url}${path}`, init);
}

async function expectOk(response: Promise<Response>): Promise<void> {
  const answer = await response;
  expect({ status: answer.status, body: await answer.text() }).toEqual({ status: 200, body: '' });
}

async function expectRefusal(response: Promise<Response>, status: number, message: string): Promise<void> {
  const answer = await response;
  expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect({ status: answer.status, body: await answer.text() }).toEqual({ status, body: message });
}

function isHealthEntries(value: unknown): value is HealthEntry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry: unknown) => typeof entry === 'object' && entry !== null && 'Service' in entry && 'Checks' in entry,
    )
  );
}

interface HealthAnswer {
  readonly index: number;
  readonly entries: HealthEntry[];
  readonly headers: Headers;
  readonly ms: number;
}

async function health(standIn: ConsulStandIn, service: string, query = ''): Promise<HealthAnswer> {
  const startedAt = performance.now();
  const answer = await fetch(`${standIn.url}/v1/health/service/${service}${query}`);
  const body: unknown = await answer.json();
  expect(answer.status).toBe(200);
  if (!isHealthEntries(body)) throw new Error(`not a health answer: ${JSON.stringify(body)}`);
  return {
    index: Number(answer.headers.get('x-consul-index')),
    entries: body,
    headers: answer.headers,
    ms: performance.now() - startedAt,
  };
}

/** A service registration body in Consul's own casing. */
function web(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ID: id,
    Name: 'web',
    Tags: ['v1'],
    Address: '10.0.0.5',
    Port: 8080,
    Meta: { zone: 'a' },
    Check: { CheckID: `${id}:ttl`, Name: 'web ttl', TTL: '10s' },
    ...overrides,
  };
}

/** Polls, for what arrives through events. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function statuses(entry: HealthEntry | undefined): Record<string, string> {
  return Object.fromEntries((entry?.Checks ?? []).map((check) => [check.CheckID, check.Status]));
}

describe('Consul stand-in over plain HTTP', () => {
  it('registers a service whose TTL check starts critical, so ?passing hides it until the check passes', async () => {
    const consul = await startStandIn();
    expect(consul.address).toBe(`127.0.0.1:${consul.port}`);
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1')));

    const all = await health(consul, 'web');
    expect(all.index).toBeGreaterThan(1);
    expect(all.headers.get('x-consul-knownleader')).toBe('true');
    expect(all.headers.get('x-consul-lastcontact')).toBe('0');
    expect(all.entries).toHaveLength(1);
    expect(all.entries[0]).toMatchObject({
      Node: { Node: 'standin', Address: '127.0.0.1', Datacenter: 'dc1' },
      Service: { ID: 'web-1', Service: 'web', Tags: ['v1'], Address: '10.0.0.5', Port: 8080, Meta: { zone: 'a' } },
      Checks: [
        { CheckID: 'serfHealth', Status: 'passing', ServiceID: '' },
        { CheckID: 'web-1:ttl', Name: 'web ttl', Status: 'critical', ServiceID: 'web-1', ServiceName: 'web' },
      ],
    });
    for (const passing of ['?passing', '?passing=true', '?passing=1']) {
      expect((await health(consul, 'web', passing)).entries).toEqual([]);
    }
    expect((await health(consul, 'web', '?passing=false')).entries).toHaveLength(1);

    await expectOk(put(consul, '/v1/agent/check/pass/web-1:ttl?note=ready'));
    const passing = await health(consul, 'web', '?passing');
    expect(passing.index).toBeGreaterThan(all.index);
    expect(passing.entries[0]?.Checks[1]).toMatchObject({ Status: 'passing', Output: 'ready' });

    await expectOk(put(consul, '/v1/agent/check/warn/web-1:ttl'));
    expect((await health(consul, 'web', '?passing')).entries).toEqual([]);
    expect(consul.services()).toEqual([
      expect.objectContaining({
        id: 'web-1',
        checks: [expect.objectContaining({ id: 'web-1:ttl', status: 'warning' })],
      }),
    ]);
    await expectOk(put(consul, '/v1/agent/check/fail/web-1:ttl'));
    expect(statuses((await health(consul, 'web')).entries[0])).toEqual({
      serfHealth: 'passing',
      'web-1:ttl': 'critical',
    });
  });

  it("fills in Consul's defaults and replaces a re-registered service", async () => {
    const consul = await startStandIn();
    // Go's JSON decoding ignores key case, and Consul also takes snake_case.
    await expectOk(
      put(consul, '/v1/agent/service/register', {
        name: 'api',
        checks: [{ ttl: '10s' }, { ttl: '10s', status: 'passing', deregister_critical_service_after: '1m' }],
      }),
    );
    const [api] = (await health(consul, 'api')).entries;
    expect(api?.Service).toMatchObject({ ID: 'api', Service: 'api', Tags: [], Address: '', Port: 0, Meta: null });
    expect(api?.Checks.map(({ CheckID, Name, Status }) => ({ CheckID, Name, Status }))).toEqual([
      { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' },
      { CheckID: 'service:api:1', Name: "Service 'api' check", Status: 'critical' },
      { CheckID: 'service:api:2', Name: "Service 'api' check", Status: 'passing' },
    ]);

    await expectOk(put(consul, '/v1/agent/service/register', { Name: 'solo', Check: { TTL: '10s' } }));
    expect(consul.services().find((service) => service.id === 'solo')?.checks[0]?.id).toBe('service:solo');

    // Re-registering replaces the service; checks it no longer names stay unless replace-existing-checks.
    await expectOk(put(consul, '/v1/agent/check/pass/service:api:1'));
    await expectOk(
      put(consul, '/v1/agent/service/register', {
        Name: 'api',
        Port: 9000,
        Checks: [{ CheckID: 'service:api:1', TTL: '10s' }],
      }),
    );
    let [again] = (await health(consul, 'api')).entries;
    expect(again?.Service.Port).toBe(9000);
    expect(statuses(again)).toEqual({ serfHealth: 'passing', 'service:api:1': 'critical', 'service:api:2': 'passing' });
    await expectOk(
      put(consul, '/v1/agent/service/register?replace-existing-checks', {
        Name: 'api',
        Checks: [{ CheckID: 'service:api:1', TTL: '10s' }],
      }),
    );
    [again] = (await health(consul, 'api')).entries;
    expect(statuses(again)).toEqual({ serfHealth: 'passing', 'service:api:1': 'critical' });
  });

  it('filters by ?tag (all of them, any case) and lists instances by service ID', async () => {
    const consul = await startStandIn();
    await expectOk(put(consul, '/v1/agent/service/register', web('web-2', { Tags: ['v2'] })));
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1', { Tags: ['v1', 'blue'] })));
    const ids = async (query: string) => (await health(consul, 'web', query)).entries.map((entry) => entry.Service.ID);
    expect(await ids('')).toEqual(['web-1', 'web-2']);
    expect(await ids('?tag=v2')).toEqual(['web-2']);
    expect(await ids('?tag=V1&tag=blue')).toEqual(['web-1']);
    expect(await ids('?tag=v2&tag=blue')).toEqual([]);
    const nobody = await health(consul, 'nobody');
    expect({ entries: nobody.entries, index: nobody.index }).toEqual({ entries: [], index: consul.index });
    await expectRefusal(fetch(`${consul.url}/v1/health/service/web?passing=maybe`), 400, 'Invalid value for ?passing');
  });

  it('holds a blocking query until the index moves, or until wait runs out with the same index', async () => {
    const consul = await startStandIn();
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1')));
    const first = await health(consul, 'web');

    const woken = health(consul, 'web', `?index=${first.index}&wait=5s`);
    await sleep(100);
    await expectOk(put(consul, '/v1/agent/check/pass/web-1:ttl'));
    const changed = await woken;
    expect(changed.ms).toBeGreaterThanOrEqual(90);
    expect(changed.ms).toBeLessThan(2_000);
    expect(changed.index).toBeGreaterThan(first.index);
    expect(statuses(changed.entries[0])['web-1:ttl']).toBe('passing');

    // Passing an already-passing check, or re-registering the same thing, is not a change.
    const idle = health(consul, 'web', `?index=${changed.index}&wait=300ms`);
    await sleep(50);
    await expectOk(put(consul, '/v1/agent/check/pass/web-1:ttl'));
    const timedOut = await idle;
    expect(timedOut.index).toBe(changed.index);
    expect(timedOut.ms).toBeGreaterThanOrEqual(290);
    expect(timedOut.ms).toBeLessThan(300 + 300 / 16 + 500);

    // No index, index 0, or an index from before a reset: answered at once.
    for (const query of ['', '?index=0&wait=5s', `?index=${changed.index + 100}&wait=5s`, '?wait=5s']) {
      const answer = await health(consul, 'web', query);
      expect({ query, index: answer.index, quick: answer.ms < 1_000 }).toEqual({
        query,
        index: changed.index,
        quick: true,
      });
    }
    await expectRefusal(fetch(`${consul.url}/v1/health/service/web?index=1&wait=soon`), 400, 'Invalid wait time');
    await expectRefusal(fetch(`${consul.url}/v1/health/service/web?index=-1`), 400, 'Invalid index');
  });

  it('turns a check whose TTL ran out critical, with "TTL expired", and wakes the watchers', async () => {
    const consul = await startStandIn();
    const body = web('web-1', { Check: { CheckID: 'ttl', TTL: '400ms', Status: 'passing' } });
    await expectOk(put(consul, '/v1/agent/service/register', body));
    // Output alone is written back lazily by Consul, so health does not show it while the status holds.
    await expectOk(put(consul, '/v1/agent/check/pass/ttl?note=fine'));
    const before = await health(consul, 'web');
    expect(before.entries[0]?.Checks[1]).toMatchObject({ Status: 'passing', Output: '' });

    const expired = await health(consul, 'web', `?index=${before.index}&wait=5s`);
    expect(expired.ms).toBeGreaterThan(300);
    expect(expired.ms).toBeLessThan(2_000);
    expect(expired.index).toBeGreaterThan(before.index);
    expect(expired.entries[0]?.Checks[1]).toMatchObject({
      Status: 'critical',
      Output: 'TTL expired (last output before timeout follows): fine',
    });

    // A check that keeps being passed in time stays passing.
    await expectOk(put(consul, '/v1/agent/check/pass/ttl'));
    for (let beat = 0; beat < 6; beat++) {
      await sleep(150);
      await expectOk(put(consul, '/v1/agent/check/pass/ttl'));
    }
    expect(statuses((await health(consul, 'web')).entries[0]).ttl).toBe('passing');
  });

  it('deregisters a service that stays critical past DeregisterCriticalServiceAfter', async () => {
    const consul = await startStandIn();
    const check = (id: string) => ({
      CheckID: id,
      TTL: '300ms',
      Status: 'passing',
      DeregisterCriticalServiceAfter: '300ms',
    });
    await expectOk(put(consul, '/v1/agent/service/register', web('doomed', { Check: check('doomed') })));
    await expectOk(put(consul, '/v1/agent/service/register', web('kept', { Check: check('kept') })));
    const heartbeat = setInterval(() => put(consul, '/v1/agent/check/pass/kept').catch(() => undefined), 100);
    cleanups.push(() => clearInterval(heartbeat));

    const startedAt = performance.now();
    let answer = await health(consul, 'web');
    const seen: string[] = [];
    while (answer.entries.some((entry) => entry.Service.ID === 'doomed')) {
      expect(performance.now() - startedAt).toBeLessThan(3_000);
      const doomed = answer.entries.find((entry) => entry.Service.ID === 'doomed');
      seen.push(statuses(doomed).doomed ?? 'gone');
      answer = await health(consul, 'web', `?index=${answer.index}&wait=1s`);
    }
    // Critical after the TTL (~300 ms), reaped 300 ms later, give or take the 100 ms reaper.
    expect(seen).toContain('critical');
    expect(performance.now() - startedAt).toBeGreaterThan(550);
    expect(answer.entries.map((entry) => entry.Service.ID)).toEqual(['kept']);
    expect(consul.services().map((service) => service.id)).toEqual(['kept']);
  });

  it('deregisters, and refuses unknown IDs, bad bodies, methods and paths as Consul does', async () => {
    const consul = await startStandIn();
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1')));
    await expectOk(put(consul, '/v1/agent/service/deregister/web-1'));
    expect((await health(consul, 'web')).entries).toEqual([]);
    await expectRefusal(
      put(consul, '/v1/agent/service/deregister/web-1'),
      404,
      'Unknown service ID "web-1". Ensure that the service ID is passed, not the service name.',
    );
    await expectRefusal(
      put(consul, '/v1/agent/check/pass/web-1:ttl'),
      404,
      'CheckID "web-1:ttl" does not have associated TTL',
    );

    const register = '/v1/agent/service/register';
    await expectRefusal(put(consul, register, { ID: 'x' }), 400, 'Missing service name');
    await expectRefusal(put(consul, register), 400, 'Request decode failed: EOF');
    const badJson = await put(consul, register, '{"Name":');
    expect({ status: badJson.status, body: await badJson.text() }).toEqual({
      status: 400,
      body: expect.stringMatching(/^Request decode failed: /),
    });
    await expectRefusal(
      put(consul, register, { Name: 'x', Port: 'http' }),
      400,
      'Request decode failed: Port must be an integer',
    );
    await expectRefusal(
      put(consul, register, { Name: 'x', Check: { Name: 'no ttl' } }),
      400,
      'Invalid check: TTL must be > 0 for TTL checks',
    );
    await expectRefusal(
      put(consul, register, { Name: 'x', Check: { HTTP: 'http://x/', Interval: '1s' } }),
      400,
      'Invalid check: the Consul stand-in runs TTL checks only',
    );
    await expectRefusal(
      put(consul, register, { Name: 'x', Check: { TTL: '1s', Status: 'ok' } }),
      400,
      "Status for checks must 'passing', 'warning', 'critical'",
    );
    await expectRefusal(fetch(`${consul.url}${register}`), 405, 'method GET not allowed');
    await expectRefusal(put(consul, '/v1/health/service/web'), 405, 'method PUT not allowed');
    await expectRefusal(fetch(`${consul.url}/v1/coordinate/nodes`), 404, '404 page not found\n');
    expect(consul.services()).toEqual([]);

    const self: unknown = await (await fetch(`${consul.url}/v1/agent/self`)).json();
    expect(self).toMatchObject({ Config: { Datacenter: 'dc1', NodeName: 'standin' }, Member: { Name: 'standin' } });
    expect(await (await fetch(`${consul.url}/v1/status/leader`)).json()).toBe('127.0.0.1:8300');
  });

  it('forgetAll() drops every service and check and wakes blocking queries', async () => {
    const consul = await startStandIn();
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1')));
    await expectOk(put(consul, '/v1/agent/service/register', web('web-2')));
    const before = await health(consul, 'web');
    const pending = health(consul, 'web', `?index=${before.index}&wait=5s`);
    await sleep(50);
    consul.forgetAll();
    const after = await pending;
    expect(after.ms).toBeLessThan(1_000);
    expect(after.index).toBeGreaterThan(before.index);
    expect(after.entries).toEqual([]);
    expect(consul.services()).toEqual([]);
    await expectRefusal(
      put(consul, '/v1/agent/check/pass/web-1:ttl'),
      404,
      'CheckID "web-1:ttl" does not have associated TTL',
    );
  });

  it('stop() is an outage: queries are cut, connections refused, and a new stand-in can take the address', async () => {
    const consul = await startStandIn();
    await expectOk(put(consul, '/v1/agent/service/register', web('web-1')));
    await expectOk(put(consul, '/v1/agent/check/pass/web-1:ttl'));
    const before = await health(consul, 'web');
    // Settled at once, so that the expected rejection is never an unhandled one.
    const pending = health(consul, 'web', `?index=${before.index}&wait=5s`).then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(50);
    await Promise.all([consul.stop(), consul.stop()]);
    expect(await pending).toBe('cut');
    await expect(fetch(`${consul.url}/v1/status/leader`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });

    const back = await startStandIn(consul.port);
    expect(back.address).toBe(consul.address);
    // The new agent knows nothing, and its index is lower: a client holding the old one is answered at once.
    const fresh = await health(back, 'web', `?index=${before.index}&wait=5s`);
    expect(fresh.entries).toEqual([]);
    expect(fresh.index).toBeLessThan(before.index);
    expect(fresh.ms).toBeLessThan(1_000);
  });
});

describe('Consul stand-in through the consul npm client', () => {
  function client(standIn: ConsulStandIn): Consul {
    const consul = new Consul({ host: standIn.host, port: standIn.port });
    cleanups.push(() => consul.destroy());
    return consul;
  }

  // consul 2.0.1's typings require `timeout` on every check, though only interval checks use it.
  const ttlCheck = (ttl: string, extra: Partial<CheckOptions> = {}) =>
    ({ name: 'web ttl', ttl, ...extra }) as CheckOptions;

  it('registers, passes, reads health and deregisters as the client sends them', async () => {
    const standIn = await startStandIn();
    const consul = client(standIn);
    await consul.agent.service.register({
      name: 'web',
      id: 'web-1',
      tags: ['v1'],
      address: '10.0.0.5',
      port: 8080,
      meta: { zone: 'a' },
      check: ttlCheck('10s', { deregistercriticalserviceafter: '1m', notes: 'heartbeat' }),
    });
    expect(standIn.services()).toEqual([
      {
        id: 'web-1',
        name: 'web',
        tags: ['v1'],
        address: '10.0.0.5',
        port: 8080,
        meta: { zone: 'a' },
        checks: [{ id: 'service:web-1', name: 'web ttl', status: 'critical', output: '', notes: 'heartbeat' }],
      },
    ]);
    expect(await consul.health.service({ service: 'web', passing: true })).toEqual([]);
    await consul.agent.check.pass({ id: 'service:web-1', note: 'up' });
    const entries: unknown = await consul.health.service({ service: 'web', passing: true, tag: 'v1' });
    expect(entries).toMatchObject([
      { Service: { ID: 'web-1', Port: 8080 }, Checks: [{}, { Status: 'passing', Output: 'up' }] },
    ]);

    await expect(consul.agent.check.pass('nope')).rejects.toMatchObject({
      statusCode: 404,
      message: expect.stringContaining('CheckID "nope" does not have associated TTL'),
    });
    await consul.agent.service.deregister('web-1');
    await expect(consul.agent.service.deregister('web-1')).rejects.toMatchObject({ statusCode: 404 });
    expect(await consul.status.leader()).toBe('127.0.0.1:8300');
    expect(await consul.agent.self()).toMatchObject({ Config: { Datacenter: 'dc1', NodeName: 'standin' } });

    await standIn.stop();
    // The client's keep-alive socket may not have noticed the cut yet, as with a real agent that dies: the
    // first call can fail on that socket (ECONNRESET); then nothing listens any more.
    await expect(consul.status.leader()).rejects.toMatchObject({
      code: expect.stringMatching(/^ECONN(RESET|REFUSED)$/),
    });
    await expect(consul.status.leader()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('drives consul.watch on health.service through X-Consul-Index, across an agent restart', async () => {
    const standIn = await startStandIn();
    const consul = client(standIn);
    await consul.agent.service.register({ name: 'web', id: 'web-1', port: 8080, check: ttlCheck('10s') });
    const watch = consul.watch({
      method: consul.health.service,
      options: { service: 'web', passing: 'true', wait: '2s' },
      backoffFactor: 50,
    });
    cleanups.push(() => watch.end());
    const changes: { ids: unknown; index: number }[] = [];
    const errors: unknown[] = [];
    watch.on('change', (data: unknown, res: IncomingMessage) => {
      const ids = isHealthEntries(data) ? data.map((entry) => entry.Service.ID) : data;
      changes.push({ ids, index: Number(res.headers['x-consul-index']) });
    });
    // Without a listener, the watch's 'error' events would be thrown.
    watch.on('error', (error: unknown) => errors.push(error));

    await until(() => changes.length === 1);
    expect(changes[0]?.ids).toEqual([]);
    await consul.agent.check.pass('service:web-1');
    await until(() => changes.length === 2);
    expect(changes[1]?.ids).toEqual(['web-1']);
    await consul.agent.check.fail('service:web-1');
    await until(() => changes.length === 3);
    expect(changes[2]?.ids).toEqual([]);
    expect(errors).toEqual([]);

    // An outage: the watch reports errors, then recovers once an agent answers again, with a lower index.
    const indexBefore = changes[2]!.index;
    await standIn.stop();
    await until(() => errors.length > 0);
    await startStandIn(standIn.port);
    await consul.agent.service.register({ name: 'web', id: 'web-1', port: 8080, check: ttlCheck('10s') });
    await consul.agent.check.pass('service:web-1');
    await until(() => JSON.stringify(changes.at(-1)?.ids) === '["web-1"]');
    expect(changes.at(-1)!.index).toBeLessThan(indexBefore);
  });
});
