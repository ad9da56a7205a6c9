import { DiscoveryConfigError } from '../errors.js';

/** The part of the `consul` client the directories and the relay entries use. */
export interface ConsulClient {
  agent: {
    service: { register(o: object): Promise<unknown>; deregister(o: object): Promise<unknown> };
    check: { pass(o: object): Promise<unknown> };
  };
  health: { service(o: object): Promise<unknown> };
  kv: { get(o: object): Promise<unknown> };
  watch(o: object): WatchHandle;
  destroy(): void;
}

export interface WatchHandle {
  on(event: 'change', listener: (data: unknown) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  end(): void;
}

export interface AgentAddress {
  host: string;
  port: number;
  secure: boolean;
}

/** "host:port" or "http(s)://host:port"; throws DiscoveryConfigError on anything else. */
export function parseAgent(agent: string): AgentAddress {
  const withScheme = /^https?:\/\//.test(agent) ? agent : `http://${agent}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
  if (!url?.hostname) {
    throw new DiscoveryConfigError(`not a Consul agent address: "${agent}" (expected host:port, e.g. 127.0.0.1:8500)`);
  }
  const secure = url.protocol === 'https:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (secure ? 443 : 8500)), secure };
}

/** A client of the agent. Loaded on use: peers that use no Consul do not carry its client. */
export async function openConsul(agent: string): Promise<ConsulClient> {
  const address = parseAgent(agent);
  const { default: Consul } = await import('consul');
  return new Consul(address) as unknown as ConsulClient;
}

/** Opens a client unless its owner was stopped while the client loaded (then null, nothing left open). */
export async function openConsulWhile(agent: string, running: () => boolean): Promise<ConsulClient | null> {
  const client = await openConsul(agent);
  if (running()) return client;
  client.destroy();
  return null;
}

/** The agent answered that it does not know a check of ours: it lost our registration. */
export function isForgotten(err: unknown): boolean {
  const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
  return status === 404 || (status === 500 && /TTL|unknown check/i.test((err as Error).message));
}
