/** "host:port" for grpc targets, with brackets around IPv6 hosts. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface HostAndPort {
  host: string;
  port: number;
}

/** Parses "host:port" or "[v6]:port"; returns null when it is not one. */
export function parseHostPort(value: string): HostAndPort | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { host: (match[1] ?? match[2]) as string, port };
}

/** The host part of what grpc-js reports as a call's peer ("1.2.3.4:5", "[::1]:5", "ipv4:..."). */
export function hostOfGrpcPeer(peer: string): string | null {
  const parsed = parseHostPort(peer.replace(/^ipv[46]:/, ''));
  if (!parsed) return null;
  return parsed.host.startsWith('::ffff:') ? parsed.host.slice(7) : parsed.host;
}
