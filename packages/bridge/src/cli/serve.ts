import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Bridge } from '../bridge.js';
import { loadBridgeIdentity } from '../federation/bridge-identity.js';
import { ConsulNetwork } from '../local/consul-network.js';
import { LanNetwork } from '../local/lan-network.js';
import { OpsServer } from '../ops/ops-server.js';
import { readinessOf } from '../ops/readiness.js';
import { registerRelayMetrics } from '../ops/relay-metrics.js';
import type { BridgeConfig } from './config.js';
import { checkPortsFree } from './port-check.js';

/**
 * Runs a bridge as configured until `stopRequested` settles: the ops server first (so that
 * /healthz answers and /readyz says it is starting), then the bridge; prints the ready line;
 * on stop withdraws what it advertised, closes its links, then the ops server.
 */
export async function serveBridge(config: BridgeConfig, log: Logger, stopRequested: Promise<unknown>): Promise<void> {
  await checkPortsFree(config);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let bridge: Bridge | null = null;
  let stopping = false;
  registerRelayMetrics(registry, () => bridge?.stats ?? null);
  const ops = config.ops
    ? new OpsServer({
        ...config.ops,
        registry,
        readiness: () => readinessOf(bridge?.federation ?? null, stopping),
        log,
      })
    : null;
  await ops?.start();
  try {
    const identity = await loadBridgeIdentity(config.dataDir, config.name);
    bridge = await Bridge.start({
      dataDir: config.dataDir,
      name: config.name,
      ...(config.listen ? { listen: config.listen } : {}),
      trust: config.trust,
      join: config.join,
      relay: config.relay,
      limits: config.limits,
      network: (access) =>
        config.consul
          ? new ConsulNetwork({
              agent: config.consul.agent,
              ...(config.consul.serviceName ? { serviceName: config.consul.serviceName } : {}),
              ...(config.consul.visibleKeys ? { visibleKeys: config.consul.visibleKeys } : {}),
              access: { ...access, host: config.consul.advertise },
              log,
            })
          : new LanNetwork({
              identity: identity.identity,
              greetingPort: access.greetingPort,
              securePort: access.securePort,
              multicast: config.lan ?? {},
              log,
            }),
      log,
      registry,
    });
    process.stdout.write(`${readyLine(bridge, config, ops)}\n`);
    const signal = await stopRequested;
    log.child({ component: 'bridge' }).info({ signal }, 'stopping');
  } finally {
    stopping = true;
    await bridge?.stop();
    await ops?.stop();
  }
}

/** The one line operators and tests wait for. */
function readyLine(bridge: Bridge, config: BridgeConfig, ops: OpsServer | null): string {
  const at = (host: string, port: number | string) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const federation = config.listen ? `federation on ${at(config.listen.host, bridge.federation.port)}` : 'dial only';
  const { greetingPort, securePort } = bridge.relayPorts;
  const joins = `${config.join.length} join${config.join.length === 1 ? '' : 's'}`;
  const opsPart = ops && config.ops ? `, ops on ${at(config.ops.host, ops.port)}` : '';
  return `bridge ${bridge.id} ready: ${federation}, relay on ${at(config.relay.host, `${greetingPort}/${securePort}`)}, ${joins}${opsPart}`;
}
