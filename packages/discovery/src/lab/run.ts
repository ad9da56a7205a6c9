import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A command the lab ran failed; the message has its output. */
export class LabCommandError extends Error {
  override name = 'LabCommandError';
}

/** Runs a command (no shell); fails with its stderr. */
export async function run(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], { timeout: 20_000 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new LabCommandError(`${command} ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

/** Like run, for cleanup: a failure is returned, not thrown. */
export async function tryRun(command: string, args: readonly string[]): Promise<string | null> {
  try {
    await run(command, args);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function hasCommand(command: string): Promise<boolean> {
  return (await tryRun('sh', ['-c', `command -v ${command}`])) === null;
}
