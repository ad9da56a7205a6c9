import { fileURLToPath } from 'node:url';

/** The built `bridge` command; the test command builds first, so dist is current. */
export const BRIDGE_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** This process's environment without any P2PM_* variable: each test sets the ones it means. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('P2PM_'),
  );
  return { ...Object.fromEntries(env), ...extra };
}
