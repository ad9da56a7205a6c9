import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SWARM_DIR = fileURLToPath(new URL('../../deploy/swarm/', import.meta.url));

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `pnpm swarm:up` / `swarm:down` (their scripts, with these flags and variables). */
export function runStackScript(
  script: 'up' | 'down',
  args: string[],
  env: Record<string, string | undefined>,
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${SWARM_DIR}${script}.mjs`, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
