import type { DockerEngine } from './docker-engine.js';

/** A Swarm service as the provider sees it: its labels and, per running task, its address on each network. */
export interface DiscoveredService {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tasks: readonly ReadonlyMap<string, string>[];
}

interface ServiceInfo {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

interface TaskInfo {
  Status: { State: string };
  NetworksAttachments?: { Network: { ID: string }; Addresses?: string[] }[];
}

/**
 * One round of Traefik's Swarm provider: every service, the Swarm-scoped networks, and each
 * service's tasks whose desired state and state are both `running`, with their addresses on
 * those networks (a dnsrr service has no VIP: Traefik balances over the tasks itself). A task
 * with no address on any Swarm network is left out, as Traefik leaves it out.
 */
export async function discoverServices(engine: DockerEngine): Promise<DiscoveredService[]> {
  const services = await engine.get<ServiceInfo[]>('/services');
  const networks = await engine.get<{ Id: string; Name: string }[]>('/networks', { filters: { scope: ['swarm'] } });
  const networkNames = new Map(networks.map((network) => [network.Id, network.Name]));
  return Promise.all(
    services.map(async (service) => {
      const tasks = await engine.get<TaskInfo[]>('/tasks', {
        filters: { service: [service.ID], 'desired-state': ['running'] },
      });
      const addresses = tasks
        .filter((task) => task.Status.State === 'running')
        .map((task) => {
          const byNetwork = new Map<string, string>();
          for (const attachment of task.NetworksAttachments ?? []) {
            const name = networkNames.get(attachment.Network.ID);
            const address = attachment.Addresses?.[0]?.split('/')[0];
            if (name && address) byNetwork.set(name, address);
          }
          return byNetwork;
        })
        .filter((byNetwork) => byNetwork.size > 0);
      return { name: service.Spec.Name, labels: service.Spec.Labels ?? {}, tasks: addresses };
    }),
  );
}
