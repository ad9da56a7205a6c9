import { networkInterfaces } from 'node:os';
import { DiscoveryConfigError } from '../errors.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** One interface of one family, as the socket calls need it named. */
export interface MulticastInterface {
  name: string;
  family: IpFamily;
  /** IPv4: the interface's address; IPv6: "::%name" (the interface by scope). */
  socketAddress: string;
}

/**
 * The interfaces to announce on: the named ones, or else every interface that is not
 * loopback and has an address of the family.
 */
export function multicastInterfaces(family: IpFamily, names?: readonly string[]): MulticastInterface[] {
  const all = networkInterfaces();
  const wanted = names && names.length > 0 ? names : Object.keys(all);
  if (names) {
    const missing = names.filter((name) => !all[name]);
    if (missing.length > 0) {
      throw new DiscoveryConfigError(
        `no network interface named ${missing.join(', ')} (this machine has: ${Object.keys(all).join(', ')})`,
      );
    }
  }
  const found: MulticastInterface[] = [];
  for (const name of wanted) {
    const addresses = all[name] ?? [];
    const match = addresses.find((a) => a.family === (family === 'ipv4' ? 'IPv4' : 'IPv6') && !a.internal);
    if (!match) continue;
    found.push({ name, family, socketAddress: family === 'ipv4' ? match.address : `::%${name}` });
  }
  return found;
}
