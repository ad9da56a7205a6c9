import { vi } from 'vitest';
import type { StartedDispatcher } from './dispatcher.js';

/** Where a home bridge joins the dispatcher's own bridge, as its ready output says. */
export interface DispatcherBridge {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** `  bridge       <id> on <host:port> (… join it with --join <id>@HOST:<port>)` */
const BRIDGE_LINE = /^ {2}bridge +([a-z2-7]{32}) on (\S+):(\d+) \(.*join it with --join \1@HOST:\3\)$/m;

/**
 * The dispatcher's bridge as an operator reads it from the ready output (started with
 * --bridge-listen): its id and the address it listens on, the port being the one it got.
 */
export async function dispatcherBridgeOf(dispatcher: StartedDispatcher): Promise<DispatcherBridge> {
  // The ready output comes in one write, but a pipe may hand it over in more than one read.
  const [, id = '', host = '', port = ''] = await vi.waitFor(
    () => {
      const match = BRIDGE_LINE.exec(dispatcher.stdout());
      if (!match) throw new Error(`no bridge line in the ready output:\n${dispatcher.stdout()}`);
      return match;
    },
    { timeout: 5_000, interval: 50 },
  );
  return { id, host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(port) };
}
