import { backoffDelay } from '@p2p-messenger/discovery';
import { describe, expect, it } from 'vitest';
import { hostOfGrpcPeer, hostPort, parseHostPort } from '../src/util/address.js';
import { isUlid, UlidGenerator } from '../src/util/ulid.js';

describe('backoffDelay', () => {
  it('doubles up to the ceiling, jittered between half and all of it', () => {
    const init = { minDelayMs: 100, maxDelayMs: 1_000 };
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, init, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, init, () => 0))).toEqual([50, 100, 200, 400, 500]);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, init)));
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe('UlidGenerator', () => {
  it('makes strictly increasing ids, within one millisecond and when the clock steps back', () => {
    const ids = new UlidGenerator();
    const made = [ids.next(1_000), ids.next(1_000), ids.next(999), ids.next(1_001)];
    expect(made.every(isUlid)).toBe(true);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(4);
  });

  it('continues after the largest id made before a restart', () => {
    const before = new UlidGenerator().next(5_000);
    expect(new UlidGenerator(before).next(4_000) > before).toBe(true);
  });
});

describe('addresses', () => {
  it('parses host:port and bracketed IPv6, and refuses the rest', () => {
    expect(parseHostPort('127.0.0.1:7400')).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(parseHostPort('[::1]:7400')).toEqual({ host: '::1', port: 7400 });
    expect(parseHostPort('peer.example:1')).toEqual({ host: 'peer.example', port: 1 });
    for (const bad of ['7400', 'host:', 'host:0', 'host:65536', '::1:7400', 'a b:1'])
      expect(parseHostPort(bad)).toBeNull();
    expect(hostPort('::1', 5)).toBe('[::1]:5');
    expect(hostOfGrpcPeer('ipv4:10.0.0.1:123')).toBe('10.0.0.1');
    expect(hostOfGrpcPeer('[::ffff:127.0.0.1]:5')).toBe('127.0.0.1');
  });
});
