import { sign } from 'node:crypto';
import { join } from 'node:path';
import type { Contact } from '@p2p-messenger/discovery';
import type { PeerIdentity } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerAnnouncementSigner } from '../src/discovery/announcement-signer.js';
import { type LocalIdentity, loadOrCreateIdentity } from '../src/identity/local-identity.js';
import { TestResources } from './helpers/resources.js';

const CONTACT: Contact = { host: '192.0.2.1', port: 7400 };
const DATA = Buffer.from('p2pm-announcement-v1 and an announcement');

describe('PeerAnnouncementSigner and the keys announcements carry', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function identity(name: string): Promise<LocalIdentity> {
    return loadOrCreateIdentity(join(await resources.dir(), name));
  }

  /** A signer for `self` whose greeting fetches fail, and are counted. */
  function signerOf(self: LocalIdentity) {
    const fetches: string[] = [];
    const signer = new PeerAnnouncementSigner({
      identity: self,
      knownKey: () => undefined,
      fetchIdentity: async (peerId: string): Promise<PeerIdentity> => {
        fetches.push(peerId);
        throw new Error('nobody answers here');
      },
      learned: () => {},
    });
    return { signer, fetches };
  }

  it('offers its own raw key for announcements to carry', async () => {
    const ada = await identity('ada');
    expect(Buffer.from(signerOf(ada).signer.signingKey)).toEqual(ada.signingKeyRaw);
  });

  it('checks a signature with a carried key that hashes to the id, without a greeting', async () => {
    const [ada, bob] = [await identity('ada'), await identity('bob')];
    const { signer, fetches } = signerOf(ada);
    const signature = sign(null, DATA, bob.signingKey);
    expect(await signer.verify(bob.id, DATA, signature, CONTACT, bob.signingKeyRaw)).toBe(true);
    // Again, from the key it now keeps.
    expect(await signer.verify(bob.id, DATA, signature, CONTACT, bob.signingKeyRaw)).toBe(true);
    expect(fetches).toEqual([]);
  });

  it('calls a carried key that does not hash to the id a forgery, however well it signed', async () => {
    const [ada, bob, eve] = [await identity('ada'), await identity('bob'), await identity('eve')];
    const { signer, fetches } = signerOf(ada);
    const signedByEve = sign(null, DATA, eve.signingKey);
    expect(await signer.verify(bob.id, DATA, signedByEve, CONTACT, eve.signingKeyRaw)).toBe(false);
    // Even after bob's genuine key was seen: eve's key is still not bob's.
    expect(await signer.verify(bob.id, DATA, sign(null, DATA, bob.signingKey), CONTACT, bob.signingKeyRaw)).toBe(true);
    expect(await signer.verify(bob.id, DATA, signedByEve, CONTACT, eve.signingKeyRaw)).toBe(false);
    // A key of the wrong size is no key of anyone's.
    expect(await signer.verify(bob.id, DATA, signedByEve, CONTACT, eve.signingKeyRaw.subarray(1))).toBe(false);
    expect(fetches).toEqual([]);
  });

  it('calls a carried key that hashes to the id but did not make the signature a forgery', async () => {
    const [ada, bob, eve] = [await identity('ada'), await identity('bob'), await identity('eve')];
    const { signer, fetches } = signerOf(ada);
    expect(await signer.verify(bob.id, DATA, sign(null, DATA, eve.signingKey), CONTACT, bob.signingKeyRaw)).toBe(false);
    const tampered = Buffer.from(DATA);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(await signer.verify(bob.id, tampered, sign(null, DATA, bob.signingKey), CONTACT, bob.signingKeyRaw)).toBe(
      false,
    );
    expect(fetches).toEqual([]);
  });

  it('without a carried key, looks the key up through the greeting as before', async () => {
    const [ada, bob] = [await identity('ada'), await identity('bob')];
    const { signer, fetches } = signerOf(ada);
    const signature = sign(null, DATA, bob.signingKey);
    await expect(signer.verify(bob.id, DATA, signature, CONTACT, Buffer.alloc(0))).rejects.toMatchObject({
      name: 'KeyUnavailableError',
    });
    expect(fetches).toEqual([bob.id]);
  });
});
