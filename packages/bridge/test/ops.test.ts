import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabHost, NetLab } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { loadBridgeIdentity } from '../src/index.js';
import { BRIDGE_MAIN, cleanEnv } from './cli-process.js';

const FEDERATION_PORT = 7443;
const OPS_PORT = 9464;
const READY = /bridge (\w{32}) ready: (.*)\n/;

/** GETs a path of the ops server inside a lab host (the test's own namespace reaches no lab address). */
async function opsGet(lab: NetLab, host: LabHost, path: string): Promise<{ status: number; body: string }> {
  const script = `fetch('http://127.0.0.1:${OPS_PORT}${path}').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })))`;
  return JSON.parse(await lab.exec(host, process.execPath, ['-e', script])) as { status: number; body: string };
}

/** Polls until `check` holds, failing with the last value seen. */
async function until<T>(
  what: string,
  get: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await get();
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

function metric(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('two bridge processes on a namespace LAN', () => {
  let lab: NetLab;
  const processes: CliProcess[] = [];
  const dirs: string[] = [];
  beforeEach(async () => {
    if (!(await NetLab.available())) throw new Error('these tests need root and iproute2 (ip netns)');
    lab = await NetLab.create();
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await lab.destroy();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function identityDir(): Promise<{ dir: string; id: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'p2pm-bridge-ops-'));
    dirs.push(dir);
    // Made before the processes start, so that each can be told the other's id.
    return { dir, id: (await loadBridgeIdentity(dir, 'bridge')).id };
  }

  function start(host: LabHost, label: string, args: string[]): CliProcess {
    const common = ['--lan', '--interface', 'eth0', '--multicast-family', 'ipv4', '--announce-interval', '200'];
    const ops = ['--ops-port', String(OPS_PORT), '--log-file', '-', '--log-level', 'debug'];
    const started = new CliProcess(label, [...common, ...ops, ...args], cleanEnv(), {
      script: BRIDGE_MAIN,
      netns: host.netns,
    });
    processes.push(started);
    return started;
  }

  it('link, say so on /readyz and /metrics, and stop on SIGTERM', async () => {
    const lan = await lab.addLan();
    const [cloudHost, homeHost] = [await lab.addHost(lan), await lab.addHost(lan)];
    const [cloud, home] = [await identityDir(), await identityDir()];

    // The home bridge first: it joins a bridge that is not there yet.
    const homeBridge = start(homeHost, 'home', [
      '--name',
      'home',
      '--data-dir',
      home.dir,
      '--join',
      `${cloud.id}@${cloudHost.ipv4}:${FEDERATION_PORT}`,
    ]);
    const homeReady = await homeBridge.waitFor(READY);
    expect(homeReady[1]).toBe(home.id);
    expect(homeReady[2]).toMatch(/^dial only, relay on 0\.0\.0\.0:7420\/7421, 1 join, ops on 127\.0\.0\.1:9464$/);
    expect(await opsGet(lab, homeHost, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}\n' });
    const notLinked = await opsGet(lab, homeHost, '/readyz');
    expect(notLinked.status).toBe(503);
    expect(JSON.parse(notLinked.body).reason).toContain(`no link up to the bridges it joins: ${cloud.id}`);

    // The cloud bridge takes its settings from a config file.
    const configFile = join(cloud.dir, 'bridge.json');
    await writeFile(
      configFile,
      JSON.stringify({
        name: 'cloud',
        dataDir: cloud.dir,
        listen: `${cloudHost.ipv4}:${FEDERATION_PORT}`,
        trust: [home.id],
        relayGreetingPort: 0,
        relayPort: 0,
      }),
    );
    const cloudBridge = start(cloudHost, 'cloud', ['--config', configFile]);
    const cloudReady = await cloudBridge.waitFor(READY);
    expect(cloudReady[1]).toBe(cloud.id);
    expect(cloudBridge.output('stderr')).toContain('"name":"cloud"');
    expect(cloudReady[2]).toMatch(
      new RegExp(
        `^federation on ${cloudHost.ipv4.replaceAll('.', '\\.')}:${FEDERATION_PORT}, relay on 0\\.0\\.0\\.0:\\d+/\\d+, 0 joins, ops`,
      ),
    );
    // A bridge that joins none is ready once started.
    expect((await opsGet(lab, cloudHost, '/readyz')).status).toBe(200);

    await until(
      'the home bridge to be ready',
      () => opsGet(lab, homeHost, '/readyz'),
      (r) => r.status === 200,
    );
    const homeMetrics = (await opsGet(lab, homeHost, '/metrics')).body;
    expect(metric(homeMetrics, 'p2pm_bridge_links_up')).toBe(1);
    expect(metric(homeMetrics, 'p2pm_bridge_local_peers')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_remote_peers')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_relayed_connections_total')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_relayed_connections_active')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_relayed_bytes_total{direction="to_target"}')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_relayed_bytes_total{direction="from_target"}')).toBe(0);
    expect(metric(homeMetrics, 'p2pm_bridge_relay_refusals_total{reason="not-advertised"}')).toBe(0);
    expect(homeMetrics).toContain('# TYPE p2pm_bridge_federation_refusals_total counter');
    const cloudMetrics = (await opsGet(lab, cloudHost, '/metrics')).body;
    expect(metric(cloudMetrics, 'p2pm_bridge_links_up')).toBe(1);

    // Refusals are counted by reason: a connection to the relay port that is no TLS hello, and
    // a bridge the cloud bridge does not trust.
    await lab.exec(homeHost, process.execPath, [
      '-e',
      "require('node:net').connect(7421, '127.0.0.1').on('error', () => {}).end('GET / HTTP/1.1\\r\\n\\r\\n')",
    ]);
    await until(
      'the bad hello to be counted',
      async () =>
        metric((await opsGet(lab, homeHost, '/metrics')).body, 'p2pm_bridge_relay_refusals_total{reason="bad-hello"}'),
      (count) => count === 1,
    );
    const intruderHost = await lab.addHost(lan);
    const intruder = await identityDir();
    start(intruderHost, 'intruder', [
      '--data-dir',
      intruder.dir,
      '--join',
      `${cloud.id}@${cloudHost.ipv4}:${FEDERATION_PORT}`,
    ]);
    await until(
      'the untrusted bridge to be refused',
      async () =>
        metric(
          (await opsGet(lab, cloudHost, '/metrics')).body,
          'p2pm_bridge_federation_refusals_total{reason="untrusted-bridge"}',
        ),
      (count) => (count ?? 0) >= 1,
    );
    expect((await opsGet(lab, intruderHost, '/readyz')).status).toBe(503);

    // The cloud bridge gone without a word: the home bridge is no longer ready, and says why.
    await cloudBridge.kill();
    const down = await until(
      'the home bridge to notice',
      () => opsGet(lab, homeHost, '/readyz'),
      (r) => r.status === 503,
      30_000,
    );
    expect(JSON.parse(down.body).reason).toContain(cloud.id);
    expect(metric((await opsGet(lab, homeHost, '/metrics')).body, 'p2pm_bridge_links_up')).toBe(0);

    const sentAt = Date.now();
    homeBridge.child.kill('SIGTERM');
    expect(await homeBridge.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    expect(homeBridge.output('stderr')).toContain('"msg":"federation stopped"');
  });
});
