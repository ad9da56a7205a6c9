import { afterEach, describe, it } from 'vitest';
import { BridgedLans } from '../src/harness/index.js';
import { checkThreeLans } from './helpers/three-lans.js';

describe('three LANs joined in a triangle', () => {
  let lans: BridgedLans | null = null;
  afterEach(async () => {
    await lans?.destroy();
    lans = null;
  });

  it('with a loop in the links, every peer is still listed once on every other LAN, by its shortest path', async () => {
    lans = await BridgedLans.create({ lans: 3, topology: 'triangle' });
    await checkThreeLans(lans);
  }, 120_000);
});
