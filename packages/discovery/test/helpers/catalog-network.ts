import { EventLog } from '@p2p-messenger/discovery/lab';
import { CatalogHttpDirectory, type CatalogHttpOptions } from '../../src/index.js';
import { type CatalogEntry, CatalogStandIn, type CatalogStandInOptions } from './catalog-standin.js';
import type { ComplianceNetwork, DirectoryUnderTest } from './compliance.js';
import { testPeerId } from './consul-network.js';

/** Fast retries, so that a test sees several within a second. */
export const CATALOG_RETRY = { minDelayMs: 20, maxDelayMs: 200 };

export function catalogEntry(name: string, ports = { greetingPort: 7000, securePort: 8000 }): CatalogEntry {
  return { id: testPeerId(), name, addresses: ['127.0.0.1'], ...ports, protocolVersion: 1 };
}

/**
 * Catalog directories of peers that the stand-in lists, as the dispatcher lists the peers it
 * runs: joining adds a peer's entry, a graceful stop removes it.
 */
export class CatalogNetwork implements ComplianceNetwork {
  readonly directories: CatalogHttpDirectory[] = [];

  /** The catalog now (restart() replaces it). */
  standIn: CatalogStandIn;

  private constructor(standIn: CatalogStandIn) {
    this.standIn = standIn;
  }

  static async create(): Promise<CatalogNetwork> {
    return new CatalogNetwork(await CatalogStandIn.start());
  }

  /** Stops the catalog (if it is not down already) and starts a new one on its port: "the dispatcher restarted". */
  async restart(options: Omit<CatalogStandInOptions, 'port'> = {}): Promise<CatalogStandIn> {
    await this.standIn.stop();
    this.standIn = await CatalogStandIn.start({ ...options, port: this.standIn.port });
    return this.standIn;
  }

  /** A directory of this catalog (not started), with its event log. */
  directory(options: Partial<CatalogHttpOptions> = {}): { directory: CatalogHttpDirectory; log: EventLog } {
    const directory = new CatalogHttpDirectory({ url: this.standIn.url, retry: CATALOG_RETRY, ...options });
    this.directories.push(directory);
    return { directory, log: EventLog.of(directory) };
  }

  async join(name: string, ports: { greetingPort: number; securePort: number }): Promise<DirectoryUnderTest> {
    const entry = catalogEntry(name, ports);
    this.standIn.add(entry);
    const { directory, log } = this.directory({ selfId: entry.id });
    await directory.start();
    return {
      id: entry.id,
      name,
      events: log.events,
      peers: async () => directory.peers(),
      waitFor: (match, timeoutMs) => log.waitFor(match, timeoutMs),
      stop: async () => {
        this.standIn.remove(entry.id);
        await directory.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.directories.map((directory) => directory.stop()));
    await this.standIn.stop();
  }
}
