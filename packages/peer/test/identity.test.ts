import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isPeerId,
  loadOrCreateIdentity,
  peerIdFromSigningKey,
  signIdentityRecord,
  verifyIdentityRecord,
} from '../src/index.js';
import { TestResources } from './helpers/resources.js';

describe('identity', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  const recordOf = (identity: Awaited<ReturnType<typeof loadOrCreateIdentity>>) =>
    signIdentityRecord(identity, {
      name: 'n',
      addresses: ['127.0.0.1'],
      greetingPort: 1,
      securePort: 2,
      protocolVersion: PROTOCOL_VERSION,
    });

  it('is created on first start with a private key file only its owner can read, and reused after', async () => {
    const dir = await resources.dir();
    const first = await loadOrCreateIdentity(dir);
    expect((await stat(join(dir, 'identity.key.json'))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateIdentity(dir);
    expect(again.id).toBe(first.id);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(isPeerId(first.id)).toBe(true);
    expect(first.id).toBe(peerIdFromSigningKey(first.signingKeyRaw));
    expect(first.fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
  });

  it('tightens a key file others can read', async () => {
    const dir = await resources.dir();
    await loadOrCreateIdentity(dir);
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, 'identity.key.json'), 0o644);
    await loadOrCreateIdentity(dir);
    expect((await stat(join(dir, 'identity.key.json'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged key file with advice instead of silently making a new identity', async () => {
    const dir = await resources.dir();
    await loadOrCreateIdentity(dir);
    await writeFile(join(dir, 'identity.key.json'), '{ not json');
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({
      name: 'IdentityFileError',
      message: expect.stringMatching(/damaged.*move it away/),
    });
  });

  it('renews a certificate that was lost, for the same key', async () => {
    const dir = await resources.dir();
    const first = await loadOrCreateIdentity(dir);
    await writeFile(join(dir, 'identity.crt.pem'), 'garbage');
    const again = await loadOrCreateIdentity(dir);
    expect(again.id).toBe(first.id);
    expect(await readFile(join(dir, 'identity.crt.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  });

  it('verifies a signed record and refuses forged ones', async () => {
    const alice = await loadOrCreateIdentity(await resources.dir());
    const mallory = await loadOrCreateIdentity(await resources.dir());
    const record = recordOf(alice);
    expect(verifyIdentityRecord(record, alice.id).id).toBe(alice.id);

    const cases = [
      { record: { ...record, id: mallory.id }, error: /does not belong to that id/ },
      { record: { ...recordOf(mallory), id: alice.id }, error: /does not belong to that id/ },
      { record: { ...record, addresses: ['10.0.0.66'] }, error: /bad signature/ },
      { record: { ...record, certificate: mallory.certificateDer }, error: /certificate for another key/ },
      { record: { ...record, sealingKey: mallory.sealingKeyRaw }, error: /bad signature/ },
      { record: { ...record, id: 'Not An Id' }, error: /malformed peer id/ },
    ];
    for (const { record: forged, error } of cases) {
      expect(() => verifyIdentityRecord(forged)).toThrow(error);
    }
    expect(() => verifyIdentityRecord(record, mallory.id)).toThrow(/expected peer/);
  });
});
