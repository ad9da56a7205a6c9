import { chmod, chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * A Docker engine socket of the test's own that forwards to the real one, so that a test can
 * make "Docker stop" for one dispatcher without touching the dockerd others use. Closed, it
 * is as a stopped daemon's: the socket file is gone and every connection is cut.
 */
export class EngineForwarder {
  /** The directory holding `docker.sock` (mounted into a dispatcher service as it is). */
  readonly dir: string;
  readonly socketPath: string;
  #server: Server | null = null;
  readonly #connections = new Set<Socket>();

  private constructor(dir: string) {
    this.dir = dir;
    this.socketPath = join(dir, 'docker.sock');
  }

  /** A forwarder in a fresh directory, open. */
  static async start(): Promise<EngineForwarder> {
    const forwarder = new EngineForwarder(await mkdtemp(join(tmpdir(), 'p2pm-engine-')));
    await forwarder.open();
    return forwarder;
  }

  /** `DOCKER_HOST` for it. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** Listens (again), with the real socket's owner group and mode, so a dispatcher in that group may use it. */
  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => this.#forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const real = await stat(DOCKER_SOCKET);
    await chown(this.dir, 0, real.gid);
    await chmod(this.dir, 0o750);
    await chown(this.socketPath, 0, real.gid);
    await chmod(this.socketPath, 0o660);
  }

  /** Stops listening (the socket file goes) and cuts every connection, as a daemon that stops. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    await closed;
  }

  /** Closes and removes its directory. Safe to call twice. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  #forward(client: Socket): void {
    const engine = connect(DOCKER_SOCKET);
    for (const socket of [client, engine]) {
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
      // Either end going away ends the other: the dispatcher sees the engine's connection drop.
      socket.once('error', () => {
        client.destroy();
        engine.destroy();
      });
    }
    client.pipe(engine);
    engine.pipe(client);
  }
}
