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

/**
 * The Docker CLI's own reading of a stack file (`docker stack config`, CLI 20.10+ with the
 * command; the engine is not asked). `env` holds the variables the file interpolates.
 */
export function stackConfig(file: string, env: Record<string, string> = {}): Promise<StackConfigResult> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['stack', 'config', '-c', file],
      { env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => {
        if (err) resolve({ ok: false, error: `${stderr}`.trim() || err.message });
        else resolve({ ok: true, config: parse(stdout) as StackConfig });
      },
    );
  });
}

/** The Docker name of each network a service is on (a stack's network is `<stack>_<key>` unless named). */
export function networkNames(config: StackConfig, service: StackService, stack: string): string[] {
  return Object.keys(service.networks ?? {}).map((key) => config.networks?.[key]?.name ?? `${stack}_${key}`);
}
