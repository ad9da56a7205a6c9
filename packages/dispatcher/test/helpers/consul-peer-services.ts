/**
 * Made-up peers as instances of a Consul service, each with a TTL check, registered the way a
 * peer's ConsulDirectory registers itself (service id = peer id, `peer_id` meta), so that a
 * test can make a peer pass, fail or go without running one.
 */
export class ConsulPeerServices {
  readonly #agent: string;
  readonly #service: string;
  readonly #added = new Set<string>();

  constructor(agent: string, service: string) {
    this.#agent = agent;
    this.#service = service;
  }

  /** Registered passing, with a TTL long enough to outlast a test. */
  async add(peerId: string): Promise<void> {
    await this.#put('/v1/agent/service/register', {
      ID: peerId,
      Name: this.#service,
      Address: '127.0.0.1',
      Port: 7400,
      Meta: { peer_id: peerId },
      Check: { CheckID: checkIdOf(peerId), TTL: '300s', Status: 'passing' },
    });
    this.#added.add(peerId);
  }

  async fail(peerId: string): Promise<void> {
    await this.#put(`/v1/agent/check/fail/${encodeURIComponent(checkIdOf(peerId))}`);
  }

  async pass(peerId: string): Promise<void> {
    await this.#put(`/v1/agent/check/pass/${encodeURIComponent(checkIdOf(peerId))}`);
  }

  async remove(peerId: string): Promise<void> {
    await this.#put(`/v1/agent/service/deregister/${encodeURIComponent(peerId)}`);
    this.#added.delete(peerId);
  }

  /** Deregisters what this added (a real agent keeps it otherwise). */
  async removeAll(): Promise<void> {
    for (const peerId of [...this.#added]) await this.remove(peerId).catch(() => {});
  }

  async #put(path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.#agent}${path}`, {
      method: 'PUT',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
  }
}

function checkIdOf(peerId: string): string {
  return `p2pm-peer:${peerId}`;
}
