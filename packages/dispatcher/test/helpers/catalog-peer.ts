import type { NewCatalogPeer } from '../../src/index.js';

/** The n-th made-up peer for a catalog: distinct id, instance and ports (nothing listens there). */
export function catalogPeer(n: number): NewCatalogPeer {
  return {
    id: `peer${String(n).padStart(4, '0')}`,
    instanceId: `p-${String(n).padStart(12, '0')}`,
    name: `peer ${n}`,
    address: '127.0.0.1',
    greetingPort: 7000 + n,
    securePort: 8000 + n,
    webPort: 9000 + n,
    fingerprint: `fp-${n}`,
  };
}
