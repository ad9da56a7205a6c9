import { ConsulStandIn } from '../../../discovery/test/helpers/consul-standin.js';

/** A real agent when CONSUL_HTTP_ADDR names one, else a stand-in of the test's own (stopped by `stop`). */
export async function agentForTest(): Promise<{ agent: string; stop: () => Promise<void> }> {
  const real = process.env.CONSUL_HTTP_ADDR;
  if (real) return { agent: /^https?:\/\//.test(real) ? real : `http://${real}`, stop: async () => {} };
  const standIn = await ConsulStandIn.start();
  return { agent: standIn.url, stop: () => standIn.stop() };
}

let pools = 0;

/** A pool name no other test (or earlier run against a real agent) uses. */
export const freshPool = (): string => `test-${process.pid}-${Date.now()}-${++pools}`;
