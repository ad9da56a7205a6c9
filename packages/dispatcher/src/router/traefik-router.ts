import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { DispatcherError } from '../errors.js';
import { LABELS } from '../orchestrator/swarm/service-spec.js';
import { askThroughTraefik, askUntil, describeAnswer, type RouteAnswer } from './route-check.js';
import type { Router, RouteTarget } from './router.js';
import { changeServiceLabels } from './service-labels.js';
import { type PeerHosts, peerHost, traefikLabelKeys, traefikLabels } from './traefik-labels.js';

/** Traefik did not come to route (or to stop routing) a peer's host in time; the message says what was tried. */
export class RouteNotLiveError extends DispatcherError {
  override name = 'RouteNotLiveError';
  constructor(
    readonly peerId: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TraefikRouterInit extends PeerHosts {
  docker: Docker;
  /** Traefik's entry point as the dispatcher reaches it (an origin, e.g. http://traefik). */
  traefikUrl: string;
  /** Scheme and port of the peers' URLs, as users open them: those of the public URL. */
  publicUrl: string | null;
  log: Logger;
  /** How long a route may take to answer (or to go); Traefik's refresh and throttle come first. */
  deadlineMs?: number;
  /** Between two requests through Traefik while waiting. */
  intervalMs?: number;
}

/**
 * A host per peer (`<peerId>.<peersDomain>`), routed by Traefik v3's Swarm provider from the
 * labels of the peer's Swarm service. Each peer on an origin of its own: one peer's page can
 * never script another's, and the peer's cookie is its host's alone. The pages keep their
 * path there (`/p/<peerId>/`), as behind the embedded router, so nothing about the peer
 * changes. `route` returns once a request through Traefik reaches that very peer, as
 * JupyterHub waits for add_route.
 */
export class TraefikRouter implements Router {
  readonly #init: TraefikRouterInit;
  readonly #log: Logger;
  /** Peer id -> its Swarm service's name, for unroute. */
  readonly #services = new Map<string, string>();
  readonly #origin: { scheme: string; port: string };

  constructor(init: TraefikRouterInit) {
    this.#init = init;
    this.#log = init.log.child({ component: 'traefik-router' });
    const publicUrl = init.publicUrl ? new URL(init.publicUrl) : null;
    this.#origin = { scheme: publicUrl?.protocol ?? 'http:', port: publicUrl?.port ? `:${publicUrl.port}` : '' };
  }

  /** The peers' origins, for a form post of the dispatcher's that ends there (CSP form-action). */
  get formTargets(): readonly string[] {
    return [`${this.#origin.scheme}//*.${this.#init.peersDomain}${this.#origin.port}`];
  }

  entryFor(peerId: string): string {
    return `${this.#origin.scheme}//${peerHost(peerId, this.#init)}${this.#origin.port}/p/${peerId}/`;
  }

  /** `target.host` is the peer's Swarm service (its name on the overlay network). */
  async route(peerId: string, target: RouteTarget): Promise<void> {
    const wanted = traefikLabels(peerId, target.port, this.#init);
    const change = await changeServiceLabels(this.#init.docker, target.host, (labels) => ({
      ...labels,
      ...wanted,
      [LABELS.peerId]: labels[LABELS.peerId] ?? peerId,
    }));
    if (change === 'gone') {
      throw new RouteNotLiveError(peerId, `peer ${peerId}: its Swarm service ${target.host} does not exist`);
    }
    this.#services.set(peerId, target.host);
    this.#log.debug({ peerId, service: target.host, change }, 'labels for Traefik set');
    await this.#waitFor(peerId, (answer) => answer.kind === 'peer', 'to answer from the peer');
    this.#log.info({ peerId }, 'routed by Traefik');
  }

  async unroute(peerId: string): Promise<void> {
    const service = this.#services.get(peerId) ?? (await this.#serviceOf(peerId));
    this.#services.delete(peerId);
    if (service) {
      const keys = traefikLabelKeys(peerId);
      await changeServiceLabels(this.#init.docker, service, (labels) =>
        Object.fromEntries(Object.entries(labels).filter(([key]) => !keys.includes(key))),
      );
    }
    await this.#waitFor(peerId, (answer) => answer.kind === 'not-routed', 'to stop routing the host');
    this.#log.info({ peerId }, 'no longer routed by Traefik');
  }

  /** After a restart of the dispatcher: the peer's service by its label. */
  async #serviceOf(peerId: string): Promise<string | undefined> {
    const services = await this.#init.docker.listServices({ filters: { label: [`${LABELS.peerId}=${peerId}`] } });
    return services[0]?.Spec?.Name;
  }

  async #waitFor(peerId: string, done: (answer: RouteAnswer) => boolean, what: string): Promise<void> {
    const host = peerHost(peerId, this.#init);
    const { traefikUrl } = this.#init;
    const deadlineMs = this.#init.deadlineMs ?? 30_000;
    const result = await askUntil(
      () => askThroughTraefik(traefikUrl, host, peerId, 2_000),
      done,
      deadlineMs,
      this.#init.intervalMs ?? 200,
    );
    if (result.ok) return;
    throw new RouteNotLiveError(
      peerId,
      `Traefik at ${traefikUrl} did not come ${what} ${host} within ${deadlineMs} ms: ${result.tries} requests for /p/${peerId}/healthz with Host: ${host}, the last got ${describeAnswer(result.answer)}`,
    );
  }
}
