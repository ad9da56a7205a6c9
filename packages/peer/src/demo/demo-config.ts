import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliConfig, currentSystem, parseCommandLine } from '../cli/config.js';
import { isAlive } from '../util/process.js';

/** The user's peer, with the chat in the terminal. */
export const USER_NAME = 'alice';
/** The bot in the child process. */
export const BOT_NAME = 'bob';

/** Another demo already uses this directory's `.demo/`. */
export class DemoBusyError extends Error {
  override name = 'DemoBusyError';
}

/** Where the demo keeps everything: `.demo/` in the directory it was started from. */
export interface DemoPaths {
  root: string;
  /** Both peers log here (each line carries the peer's name and pid). */
  logFile: string;
  /** Holds the pid of the demo using the directory. */
  pidFile: string;
}

export function demoPaths(root: string): DemoPaths {
  return { root, logFile: join(root, 'demo.log'), pidFile: join(root, 'demo.pid') };
}

/**
 * The configuration of one demo peer, made by the CLI's own parser so that it is validated
 * like any other: loopback only (no multicast), free ports, data in `.demo/<name>`, logs into the demo's log.
 * The environment is left out on purpose: the demo behaves the same everywhere.
 */
export function demoPeerConfig(name: string, paths: DemoPaths): CliConfig {
  const argv = ['--name', name, '--data-dir', join(paths.root, name), '--log-file', paths.logFile];
  // Both peers are on this machine: nothing to announce to the LAN.
  const local = [
    '--listen',
    '127.0.0.1',
    '--greeting-port',
    '0',
    '--secure-port',
    '0',
    '--no-interactive',
    '--no-multicast',
  ];
  const command = parseCommandLine([...argv, ...local], {}, currentSystem());
  if (command.kind !== 'run') throw new Error(`unexpected ${command.kind} command for demo peer ${name}`);
  return command.config;
}

/**
 * Makes this process the one demo using `paths.root` (two would share identities and
 * databases); returns the release. A pid file left by a demo that died is taken over.
 */
export function claimDemoDir(paths: DemoPaths): () => void {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  const release = () => rmSync(paths.pidFile, { force: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(paths.pidFile, `${process.pid}\n`, { flag: 'wx' });
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(paths.pidFile, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new DemoBusyError(
        `another demo (pid ${holder}) is running in ${paths.root}: stop it first, or start this one from another directory (if no demo runs, delete ${paths.pidFile})`,
      );
    }
    release();
  }
  throw new DemoBusyError(`could not claim ${paths.root}: another demo is starting there`);
}

/** Deletes the peers' identities, messages and the log; keeps the pid file of this demo. */
export function resetDemoDir(paths: DemoPaths): void {
  for (const entry of readdirSync(paths.root)) {
    const path = join(paths.root, entry);
    if (path !== paths.pidFile) rmSync(path, { recursive: true, force: true });
  }
}
