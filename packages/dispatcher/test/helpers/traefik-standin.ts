import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import ts from 'typescript';
import { SWARM_LABELS } from '../../src/index.js';

export const STANDIN_IMAGE = 'p2p-messenger/traefik-standin:test';
const LOCAL_BASE = 'p2p-messenger/node-base:local';
const SOURCE_DIR = fileURLToPath(new URL('./traefik-standin/', import.meta.url));
/** The project's Traefik static configuration, which the stand-in reads as Traefik would. */
export const TRAEFIK_YML = fileURLToPath(new URL('../../../../deploy/traefik/traefik.yml', import.meta.url));

export interface StartedTraefikStandIn {
  /** The Swarm service's name (on the test's overlay network, e.g. http://<name>:80). */
  readonly service: string;
  /** The `web` entry point as this host reaches it (published mode=host). */
  readonly url: string;
  /** The stand-in's log lines so far (JSON). */
  logs(): Promise<Record<string, unknown>[]>;
}

let built: Promise<void> | null = null;

/**
 * The stand-in's image: its TypeScript transpiled to JavaScript (the image has Node and
 * nothing else) on the local base `pnpm images` makes. Built once per test process.
 */
export function buildStandInImage(docker: Docker): Promise<void> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'traefik-standin-'));
    try {
      for (const file of await readdir(SOURCE_DIR)) {
        if (!file.endsWith('.ts')) continue;
        const { outputText } = ts.transpileModule(await readFile(join(SOURCE_DIR, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        await writeFile(join(dir, file.replace(/\.ts$/, '.js')), outputText);
      }
      await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
      await writeFile(
        join(dir, 'Dockerfile'),
        `FROM ${LOCAL_BASE}\nCOPY . /standin/\nLABEL org.opencontainers.image.title="Traefik stand-in (tests only)"\nENTRYPOINT ["/usr/bin/node", "/standin/main.js"]\n`,
      );
      const stream = await docker.buildImage(
        { context: dir, src: await readdir(dir) },
        { t: STANDIN_IMAGE, rm: true, forcerm: true },
      );
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
          const failed = err?.message ?? output.find((event) => event.error)?.error;
          if (failed)
            reject(new Error(`building ${STANDIN_IMAGE} failed (is ${LOCAL_BASE} there? pnpm images): ${failed}`));
          else resolve();
        }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  built.catch(() => {
    built = null;
  });
  return built;
}

/**
 * deploy/traefik/traefik.yml with the test's overlay network in place of the stack's, as a
 * Docker config at /etc/traefik/traefik.yml (as the stack mounts it), run by the stand-in as
 * a Swarm service on that network with the Docker socket, its `web` entry point published on
 * `port` of this host. Carries the test's pool label, so the pool's cleanup removes it.
 */
export async function startTraefikStandIn(
  docker: Docker,
  test: { network: string; pool: string },
  port: number,
  staticConfig?: string,
): Promise<StartedTraefikStandIn> {
  await buildStandInImage(docker);
  const yaml = staticConfig ?? (await readFile(TRAEFIK_YML, 'utf8'));
  const withNetwork = yaml.replace(/^(\s+network:\s*)p2pm-peers\s*$/m, `$1${test.network}`);
  if (withNetwork === yaml && !staticConfig) throw new Error(`no "network: p2pm-peers" in ${TRAEFIK_YML}`);
  const name = `p2pm-traefik-${test.pool}`;
  const labels = { [SWARM_LABELS.pool]: test.pool };
  const config = await docker.createConfig({
    Name: `${name}-static-${Date.now().toString(36)}`,
    Labels: labels,
    Data: Buffer.from(withNetwork).toString('base64'),
  });
  const configName = ((await docker.getConfig(config.id).inspect()) as { Spec: { Name: string } }).Spec.Name;
  await docker.createService({
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: STANDIN_IMAGE,
        Labels: labels,
        Mounts: [{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock', ReadOnly: true }],
        Configs: [
          {
            File: { Name: '/etc/traefik/traefik.yml', UID: '0', GID: '0', Mode: 0o444 },
            ConfigID: config.id,
            ConfigName: configName,
          },
        ],
      },
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: test.network }],
    },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'host' }],
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const logs = async () => {
    const raw = (await docker.getService(name).logs({ stdout: true, stderr: true })) as unknown as Buffer;
    return raw
      .toString('utf8')
      .split('\n')
      .map((line) => line.slice(line.indexOf('{')))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  await untilAnswering(url, logs);
  return { service: name, url, logs };
}

/** Until the entry point answers (404 for a host nobody routes). */
async function untilAnswering(url: string, logs: () => Promise<unknown[]>): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const answer = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (answer?.status === 404) return;
    await sleep(250);
  }
  throw new Error(`the Traefik stand-in did not answer at ${url}; its log: ${JSON.stringify(await logs())}`);
}
