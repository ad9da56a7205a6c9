import { describe, it } from 'vitest';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { checkThreeLans } from './helpers/three-lans.js';

describe('three LANs joined in a triangle', () => {
  const bridgedLans = bridgedLansPerTest();

  it('with a loop in the links, every peer is still listed once on every other LAN, by its shortest path', async () => {
    const lans = await bridgedLans({ lans: 3, topology: 'triangle' });
    await checkThreeLans(lans);
  }, 120_000);
});
