import { execFile } from 'node:child_process';
import { parse } from 'yaml';

/** A stack file as `docker stack config` prints it: merged, interpolated, normalised. */
export interface StackConfig {
  services: Record<string, StackService>;
  networks?: Record<string, { name?: string; attachable?: boolean; driver?: string } | null>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
  configs?: Record<string, unknown>;
}

export interface StackService {
  image: string;
  environment?: Record<string, string | null>;
  networks?: Record<string, unknown>;
  deploy?: {
    labels?: Record<string, string>;
    update_config?: { order?: string };
    rollback_config?: { order?: string };
    placement?: { constraints?: string[] };
    endpoint_mode?: string;
  };
}

export type StackConfigResult = { ok: true; config: StackConfig } | { ok: false; error: string };

/** A docker CLI that has `stack config` (CLI 23 and later; Debian 12's docker.io 20.10 has not). */
const CLI_CANDIDATES = ['docker', '/usr/local/bin/docker', '/usr/bin/docker'];
let cli: Promise<string> | undefined;

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env }, (error, stdout, stderr) => resolve({ ok: !error, out: stdout, err: stderr }));
  });
}

function dockerWithStackConfig(): Promise<string> {
  cli ??= (async () => {
    for (const candidate of CLI_CANDIDATES) {
      if ((await run(candidate, ['stack', 'config', '--help'], process.env)).ok) return candidate;
    }
    throw new Error(
      `no docker CLI with "docker stack config" (tried ${CLI_CANDIDATES.join(', ')}): it needs Docker CLI 23 or later`,
    );
  })();
  return cli;
}

/**
 * The Docker CLI's own reading of a stack file (`docker stack config`; the engine is not
 * asked). `env` holds the variables the file interpolates, and nothing else of this process's.
 */
export async function stackConfig(file: string, env: Record<string, string> = {}): Promise<StackConfigResult> {
  const docker = await dockerWithStackConfig();
  const { ok, out, err } = await run(docker, ['stack', 'config', '-c', file], { PATH: process.env.PATH, ...env });
  return ok ? { ok: true, config: parse(out) as StackConfig } : { ok: false, error: err.trim() || 'failed' };
}

/** The Docker name of each network a service is on (a stack's network is `<stack>_<key>` unless named). */
export function networkNames(config: StackConfig, service: StackService, stack: string): string[] {
  return Object.keys(service.networks ?? {}).map((key) => config.networks?.[key]?.name ?? `${stack}_${key}`);
}
