import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabHost, NetLab } from '@p2p-messenger/discovery/lab';
import { compiledSibling } from '@p2p-messenger/peer';

const WORKER = compiledSibling(import.meta.url, './tunnel-worker.js');
const START_TIMEOUT_MS = 10_000;

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * A TCP port of a lab host (say a bridge's ops port on the host's loopback), reached from
 * this process through a Unix socket: network namespaces part addresses, not file paths.
 * One small process in the host passes the bytes on.
 */
export class NamespaceTunnel {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly socketPath: string;

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    this.socketPath = join(dir, 'tunnel.sock');
  }

  /** Opens a tunnel to `port` of `host` (on its loopback unless `address` is given). */
  static async open(lab: NetLab, host: LabHost, port: number, address = '127.0.0.1'): Promise<NamespaceTunnel> {
    const dir = await mkdtemp(join(tmpdir(), 'p2pm-tunnel-'));
    const socketPath = join(dir, 'tunnel.sock');
    const child = lab.spawn(host, process.execPath, [WORKER, socketPath, String(port), address], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const tunnel = new NamespaceTunnel(child, dir);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the tunnel into ${host.netns} did not open`)),
          START_TIMEOUT_MS,
        );
        child.stdout?.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the tunnel into ${host.netns} exited with ${code}`));
        });
      });
    } catch (err) {
      await tunnel.close();
      throw err;
    }
    return tunnel;
  }

  /** A new connection to the port. */
  connect(): Socket {
    return connect(this.socketPath);
  }

  /** GETs a path over HTTP; an error (nothing listening) is status 0 with the error as body. */
  get(path: string, timeoutMs = 5_000): Promise<HttpAnswer> {
    return new Promise((resolve) => {
      const req = request({ socketPath: this.socketPath, path, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => resolve({ status: 0, body: String(err) }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: String(err) }));
      req.end();
    });
  }

  /** Ends the process in the host and removes the socket. Safe to call twice. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}
