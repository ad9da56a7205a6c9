import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawPublicKey } from '../src/identity/keys.js';
import { PairSealer } from '../src/sealing/pair-sealer.js';

function party(id: string) {
  const { privateKey } = generateKeyPairSync('x25519');
  return { id, key: privateKey, raw: rawPublicKey(privateKey) };
}

const meta = (over: Partial<Parameters<PairSealer['seal']>[1]> = {}) => ({
  id: '01J00000000000000000000000',
  conversationId: 'a:b',
  senderId: 'a',
  recipientId: 'b',
  lamport: 1,
  sentAtMs: 1,
  ...over,
});

describe('PairSealer', () => {
  const alice = party('a');
  const bob = party('b');
  const eve = party('e');
  const aliceToBob = new PairSealer(alice.id, alice.key, bob.id, bob.raw);
  const bobFromAlice = new PairSealer(bob.id, bob.key, alice.id, alice.raw);

  it('opens what the other side sealed, and hides the plaintext', () => {
    const sealed = aliceToBob.seal(Buffer.from('hello bob'), meta());
    expect(sealed.includes(Buffer.from('hello'))).toBe(false);
    expect(bobFromAlice.open(sealed, meta()).toString()).toBe('hello bob');
  });

  it('rejects a tampered ciphertext', () => {
    const sealed = aliceToBob.seal(Buffer.from('hello bob'), meta());
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] ?? 0) ^ 1;
    expect(() => bobFromAlice.open(sealed, meta())).toThrow(expect.objectContaining({ name: 'UnsealError' }));
  });

  it('rejects changed metadata (order, ids, conversation)', () => {
    const sealed = aliceToBob.seal(Buffer.from('hi'), meta());
    for (const changed of [{ lamport: 2 }, { id: '01J00000000000000000000001' }, { conversationId: 'a:c' }]) {
      expect(() => bobFromAlice.open(sealed, meta(changed))).toThrow(expect.objectContaining({ name: 'UnsealError' }));
    }
  });

  it('rejects a message sealed for someone else', () => {
    const aliceToEve = new PairSealer(alice.id, alice.key, eve.id, eve.raw);
    const sealed = aliceToEve.seal(Buffer.from('for eve'), meta({ recipientId: 'b' }));
    expect(() => bobFromAlice.open(sealed, meta())).toThrow(expect.objectContaining({ name: 'UnsealError' }));
  });

  it('does not let the recipient reflect a message back as if the sender wrote it', () => {
    const sealed = aliceToBob.seal(Buffer.from('hi'), meta());
    const aliceFromBob = new PairSealer(alice.id, alice.key, bob.id, bob.raw);
    expect(() => aliceFromBob.open(sealed, meta())).toThrow(expect.objectContaining({ name: 'UnsealError' }));
  });
});
