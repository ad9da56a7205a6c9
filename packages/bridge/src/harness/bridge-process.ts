import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { LabHost, NetLab } from '@p2p-messenger/discovery/lab';
import { compiledSibling } from '@p2p-messenger/peer';
import { MetricsText } from './metrics-text.js';
import { type HttpAnswer, NamespaceTunnel } from './namespace-tunnel.js';

const BRIDGE_MAIN = compiledSibling(import.meta.url, '../cli/main.js');
const READY = /^bridge ([a-z2-7]+) ready: (.*)$/m;

/** The LAN side of a bridge: its multicast settings (the LAN's peers must use the same). */
export interface BridgeLanSide {
  /** Interfaces the bridge's multicast uses (default: every non-loopback one). */
  interfaces?: readonly string[];
  family?: 'ipv4' | 'ipv6' | 'both';
  intervalMs?: number;
  expiryMs?: number;
}

/** How to run the `bridge` command in a lab host; each field is one of its flags. */
export interface BridgeProcessOptions {
  dataDir: string;
  name?: string;
  /** --listen HOST:PORT (federation port); omit for a bridge that only dials. */
  listen?: string;
  trust?: readonly string[];
  /** --join ID@HOST:PORT, each. */
  join?: readonly string[];
  lan?: BridgeLanSide;
  /** The ops port on the host's loopback (default 9464). */
  opsPort?: number;
  logLevel?: string;
  /** Further flags, as given. */
  args?: readonly string[];
  /** Flags for node itself (e.g. --cpu-prof, written when the bridge stops, not when killed). */
  nodeArgs?: readonly string[];
  readyTimeoutMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const DEFAULT_OPS_PORT = 9464;

/**
 * The built `bridge` command running in a lab host: started and waited for until it prints
 * its ready line (which names its id), its output kept, its ops endpoints reached through a
 * tunnel, stopped with SIGTERM or killed with SIGKILL (a crash).
 */
export class BridgeProcess {
  readonly id: string;
  /** What the ready line says after "ready: ". */
  readonly readySays: string;
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #output: { stdout: string; stderr: string };
  #tunnel: Promise<NamespaceTunnel> | null = null;

  private constructor(
    readonly lab: NetLab,
    readonly host: LabHost,
    readonly options: Readonly<BridgeProcessOptions>,
    started: { child: ChildProcess; output: { stdout: string; stderr: string }; exited: Promise<ProcessExit> },
    ready: RegExpMatchArray,
  ) {
    this.#child = started.child;
    this.#output = started.output;
    this.exited = started.exited;
    this.id = ready[1] as string;
    this.readySays = ready[2] as string;
  }

  /** Starts the command and waits for its ready line; fails with its output if it exits first or takes too long. */
  static async start(lab: NetLab, host: LabHost, options: BridgeProcessOptions): Promise<BridgeProcess> {
    const child = lab.spawn(
      host,
      process.execPath,
      [...(options.nodeArgs ?? []), BRIDGE_MAIN, ...bridgeArgs(options)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: withoutBridgeVariables(process.env),
      },
    );
    const output = { stdout: '', stderr: '' };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output.stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output.stderr += chunk;
    });
    // 'close', not 'exit': by then the output is all read.
    const exited = once(child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    const timeoutMs = options.readyTimeoutMs ?? 20_000;
    const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        finish();
      };
      const fail = (why: string) =>
        settle(() => {
          child.kill('SIGKILL');
          const said = `--- stdout ---\n${output.stdout}\n--- stderr ---\n${output.stderr}`;
          reject(new Error(`bridge in ${host.netns} ${why}\n${said}`));
        });
      const onData = () => {
        const match = READY.exec(output.stdout);
        if (match) settle(() => resolve(match));
      };
      const timer = setTimeout(() => fail(`printed no ready line within ${timeoutMs} ms`), timeoutMs);
      child.stdout?.on('data', onData);
      void exited.then((exit) => fail(`exited (${exit.code ?? exit.signal}) before it was ready`));
    });
    return new BridgeProcess(lab, host, options, { child, output, exited }, ready);
  }

  /** The same command again, on the same data dir (so with the same id): after a stop or a kill. */
  restart(): Promise<BridgeProcess> {
    return BridgeProcess.start(this.lab, this.host, this.options);
  }

  /** The relay's ports, as the ready line names them (where this bridge's LAN peers reach other networks). */
  get relayPorts(): { greetingPort: number; securePort: number } {
    const match = /relay on .*:(\d+)\/(\d+)/.exec(this.readySays);
    if (!match) throw new Error(`no relay ports in the ready line: ${this.readySays}`);
    return { greetingPort: Number(match[1]), securePort: Number(match[2]) };
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What it printed so far: the ready line on stdout, its pino log lines on stderr. */
  output(stream: 'stdout' | 'stderr' = 'stderr'): string {
    return this.#output[stream];
  }

  /** Its log as records, for tests that look for what it said. */
  logRecords(): Record<string, unknown>[] {
    return this.#output.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** GETs an ops path (/healthz, /readyz, /metrics); status 0 when nothing answers. */
  async opsGet(path: string): Promise<HttpAnswer> {
    this.#tunnel ??= NamespaceTunnel.open(this.lab, this.host, this.options.opsPort ?? DEFAULT_OPS_PORT);
    return (await this.#tunnel).get(path);
  }

  async metrics(): Promise<MetricsText> {
    const answer = await this.opsGet('/metrics');
    if (answer.status !== 200)
      throw new Error(`/metrics of bridge ${this.id} answered ${answer.status}: ${answer.body}`);
    return new MetricsText(answer.body);
  }

  /** Graceful stop (SIGTERM); killed if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<ProcessExit> {
    if (this.running) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    await this.#closeTunnel();
    return exit;
  }

  /** kill -9: no withdrawal, no goodbye; links and relays just go. */
  async kill(): Promise<ProcessExit> {
    if (this.running) this.#child.kill('SIGKILL');
    const exit = await this.exited;
    await this.#closeTunnel();
    return exit;
  }

  async #closeTunnel(): Promise<void> {
    const tunnel = this.#tunnel;
    this.#tunnel = null;
    await (await tunnel?.catch(() => null))?.close();
  }
}

/** The command's flags for these options. */
export function bridgeArgs(options: BridgeProcessOptions): string[] {
  const args = ['--data-dir', options.dataDir, '--name', options.name ?? 'bridge'];
  if (options.listen) args.push('--listen', options.listen);
  for (const id of options.trust ?? []) args.push('--trust', id);
  for (const target of options.join ?? []) args.push('--join', target);
  const lan = options.lan ?? {};
  args.push('--lan', '--multicast-family', lan.family ?? 'ipv4');
  for (const name of lan.interfaces ?? []) args.push('--interface', name);
  if (lan.intervalMs !== undefined) args.push('--announce-interval', String(lan.intervalMs));
  if (lan.expiryMs !== undefined) args.push('--peer-expiry', String(lan.expiryMs));
  args.push('--ops-port', String(options.opsPort ?? DEFAULT_OPS_PORT));
  args.push('--log-level', options.logLevel ?? 'debug', '--log-file', '-');
  return [...args, ...(options.args ?? [])];
}

/** This process's environment without P2PM_BRIDGE_* variables: the options alone configure the bridge. */
function withoutBridgeVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('P2PM_BRIDGE_')));
}
