import type Docker from 'dockerode';
import type { PeerConsulSettings } from '../../catalog/consul/peer-registration.js';

/** The labels every peer service, its containers and its volume carry. */
export const LABELS = {
  project: 'org.p2p-messenger.project',
  pool: 'org.p2p-messenger.pool',
  role: 'org.p2p-messenger.role',
  instanceId: 'org.p2p-messenger.instance-id',
  name: 'org.p2p-messenger.peer-name',
  peerId: 'org.p2p-messenger.peer-id',
  owner: 'org.p2p-messenger.owner',
} as const;

/** Inside the container: the ports of the peer image (deploy/images/peer.Dockerfile). */
export const PEER_PORTS = { greeting: 7400, secure: 7401, web: 7480 } as const;

export interface PeerServiceSettings {
  image: string;
  /** The attachable overlay network peers (and the dispatcher) are on. */
  networkId: string;
  /** Which dispatcher's pool: services of other pools are never touched. */
  pool: string;
  /** CPU (in cores) and memory (bytes) a peer may use. */
  cpus: number;
  memoryBytes: number;
  placement: string[];
  /** Docker config holding the dispatcher's ticket key (public), and Docker secret holding the catalog token. */
  ticketKey?: { id: string; name: string };
  catalogToken?: { id: string; name: string };
  catalogUrl?: string;
  /** The Consul agent (as containers reach it) the peer registers in, under its service name as address. */
  consul?: PeerConsulSettings;
  /** Where the peer's owner goes after logging out. */
  dispatcherUrl?: string;
}

export function serviceName(instanceId: string): string {
  return `p2pm-peer-${instanceId}`;
}

export function volumeName(instanceId: string): string {
  return `p2pm-peer-${instanceId}-data`;
}

/** Labels of one instance: on its service, its containers and its volume. */
export function instanceLabels(pool: string, instanceId: string, name: string): Record<string, string> {
  return {
    [LABELS.project]: 'p2p-messenger',
    [LABELS.pool]: pool,
    [LABELS.role]: 'peer',
    [LABELS.instanceId]: instanceId,
    [LABELS.name]: name,
  };
}

/** Other peers reach this one by its service name: dnsrr resolves it to the task on the overlay network. */
function consulEnv(consul: PeerConsulSettings, address: string): string[] {
  return [
    `CONSUL_HTTP_ADDR=${consul.agent}`,
    `P2PM_CONSUL_SERVICE=${consul.serviceName}`,
    `P2PM_CONSUL_TAGS=${consul.tags.join(',')}`,
    `P2PM_CONSUL_VISIBLE_KEYS=${consul.visibleKeys}`,
    `P2PM_ADVERTISE=${address}`,
  ];
}

/**
 * The Swarm service of one peer: one replica, its own named volume at /data (so identity and
 * history survive kills and reschedules), limits, restarts by Swarm, settings as variables and
 * secrets as Docker secrets and configs. Reached by name on the overlay network: DNS round
 * robin to its task, as service VIPs need IPVS, which some kernels (these) lack.
 */
export function peerServiceSpec(
  settings: PeerServiceSettings,
  instanceId: string,
  name: string,
): Docker.CreateServiceOptions {
  const labels = instanceLabels(settings.pool, instanceId, name);
  const env = [
    `P2PM_NAME=${name}`,
    ...(settings.catalogUrl ? [`P2PM_CATALOG_URL=${settings.catalogUrl}`] : []),
    ...(settings.ticketKey ? ['P2PM_DISPATCHER_KEY_FILE=/run/configs/dispatcher-ticket-key.pem'] : []),
    ...(settings.catalogToken ? ['P2PM_CATALOG_TOKEN_FILE=/run/secrets/catalog-token'] : []),
    ...(settings.consul ? consulEnv(settings.consul, serviceName(instanceId)) : []),
    ...(settings.dispatcherUrl ? [`P2PM_DISPATCHER_URL=${settings.dispatcherUrl}`] : []),
  ];
  const file = (fileName: string) => ({ Name: fileName, UID: '1000', GID: '1000', Mode: 0o400 });
  return {
    Name: serviceName(instanceId),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: settings.image,
        Labels: labels,
        Env: env,
        Mounts: [
          {
            Type: 'volume' as const,
            Source: volumeName(instanceId),
            Target: '/data',
            VolumeOptions: { NoCopy: false, Labels: labels, DriverConfig: { Name: 'local', Options: {} } },
          },
        ],
        ...(settings.ticketKey
          ? {
              Configs: [
                {
                  ConfigID: settings.ticketKey.id,
                  ConfigName: settings.ticketKey.name,
                  File: { ...file('/run/configs/dispatcher-ticket-key.pem'), Mode: 0o444 },
                },
              ],
            }
          : {}),
        ...(settings.catalogToken
          ? {
              Secrets: [
                {
                  SecretID: settings.catalogToken.id,
                  SecretName: settings.catalogToken.name,
                  File: file('catalog-token'),
                },
              ],
            }
          : {}),
        StopGracePeriod: 10_000_000_000,
        // Not the image's check: it starts a Node process in every peer every 10 s, which at
        // a hundred peers and more takes the machine's CPU. The dispatcher probes each peer's
        // /healthz itself, and tells a return from the new container's ready line.
        HealthCheck: { Test: ['NONE'] },
      },
      Resources: {
        Limits: { NanoCPUs: Math.round(settings.cpus * 1e9), MemoryBytes: settings.memoryBytes },
      },
      RestartPolicy: { Condition: 'any', Delay: 1_000_000_000 },
      ...(settings.placement.length > 0 ? { Placement: { Constraints: settings.placement } } : {}),
      Networks: [{ Target: settings.networkId }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}
