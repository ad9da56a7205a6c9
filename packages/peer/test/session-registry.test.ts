import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Initiator, Session } from '../src/transport/session.js';
import { SessionRegistry } from '../src/transport/session-registry.js';

/** A stand-in with the part of Session the registry uses. */
function fakeSession(peerId: string, initiator: Initiator) {
  const closedWith: { code: grpc.status; details: string }[] = [];
  const listeners: (() => void)[] = [];
  const session = {
    peerId,
    initiator,
    get isOpen() {
      return closedWith.length === 0;
    },
    close(code: grpc.status, details: string) {
      if (closedWith.length > 0) return;
      closedWith.push({ code, details });
      for (const listener of listeners) listener();
    },
    once(_event: 'closed', listener: () => void) {
      listeners.push(listener);
    },
  };
  return { session: session as unknown as Session, closedWith };
}

describe('SessionRegistry', () => {
  const small = 'aaaa';
  const large = 'zzzz';

  it('keeps the stream opened by the smaller id when both sides dial, whatever arrives first', () => {
    for (const [localId, remoteId] of [
      [small, large],
      [large, small],
    ] as const) {
      for (const order of [
        ['local', 'remote'],
        ['remote', 'local'],
      ] as const) {
        const registry = new SessionRegistry(localId);
        const sessions = order.map((initiator) => fakeSession(remoteId, initiator));
        for (const { session } of sessions) registry.offer(session);
        const winner = localId < remoteId ? 'local' : 'remote';
        expect(registry.get(remoteId)?.initiator).toBe(winner);
        const loser = sessions.find(({ session }) => session.initiator !== winner);
        expect(loser?.closedWith[0]?.code).toBe(grpc.status.ALREADY_EXISTS);
      }
    }
  });

  it('lets a newer stream in the same direction replace the old one', () => {
    const registry = new SessionRegistry(small);
    const first = fakeSession(large, 'remote');
    const second = fakeSession(large, 'remote');
    registry.offer(first.session);
    expect(registry.offer(second.session)).toBe(true);
    expect(registry.get(large)).toBe(second.session);
    expect(first.closedWith).toHaveLength(1);
  });

  it('forgets a session when it closes', () => {
    const registry = new SessionRegistry(small);
    const { session } = fakeSession(large, 'local');
    const closed: Session[] = [];
    registry.on('closed', (s) => closed.push(s));
    registry.offer(session);
    session.close(grpc.status.OK, 'bye');
    expect(registry.get(large)).toBeUndefined();
    expect(closed).toEqual([session]);
  });
});
