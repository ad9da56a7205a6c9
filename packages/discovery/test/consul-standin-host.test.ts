import { afterEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from './helpers/consul-standin.js';

describe('Consul stand-in on an address of its own', () => {
  let standIn: ConsulStandIn | null = null;
  afterEach(async () => {
    await standIn?.stop();
    standIn = null;
  });

  it('listens only where it is told, and says so in its address and URL', async () => {
    // Any 127/8 address is this machine's loopback: another one than the default shows the choice.
    standIn = await ConsulStandIn.start({ host: '127.0.0.2' });
    expect(standIn.address).toBe(`127.0.0.2:${standIn.port}`);
    expect(standIn.url).toBe(`http://127.0.0.2:${standIn.port}`);
    expect((await fetch(`${standIn.url}/v1/status/leader`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${standIn.port}/v1/status/leader`)).rejects.toThrow();
  });

  it('listens on loopback unless told otherwise', async () => {
    standIn = await ConsulStandIn.start();
    expect(standIn.address).toBe(`127.0.0.1:${standIn.port}`);
  });
});
