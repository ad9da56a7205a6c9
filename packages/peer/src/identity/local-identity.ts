import { createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdentityFileError } from '../errors.js';
import { certificateFitsKey, createIdentityCertificate } from './certificate.js';
import { privateKeyFromPem, rawPublicKey } from './keys.js';
import { fingerprintOf, peerIdFromSigningKey } from './peer-id.js';

const KEY_FILE = 'identity.key.json';
const CERT_FILE = 'identity.crt.pem';

/** This peer's own long-term identity: keys, id, fingerprint and TLS certificate. */
export interface LocalIdentity {
  readonly id: string;
  readonly fingerprint: string;
  readonly signingKey: KeyObject;
  readonly signingKeyRaw: Buffer;
  readonly sealingKey: KeyObject;
  readonly sealingKeyRaw: Buffer;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
}

interface KeyFile {
  version: 1;
  signingKey: string;
  sealingKey: string;
}

/**
 * Loads the identity from the data dir, creating it on first start. The key file is written
 * with mode 0600 and renamed into place, so a crash never leaves half a key.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<LocalIdentity> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keyPath = join(dataDir, KEY_FILE);
  const keys = (await readKeyFile(keyPath)) ?? (await createKeyFile(keyPath));
  const signingKey = privateKeyFromPem(keys.signingKey);
  const sealingKey = privateKeyFromPem(keys.sealingKey);
  if (signingKey.asymmetricKeyType !== 'ed25519' || sealingKey.asymmetricKeyType !== 'x25519') {
    throw new IdentityFileError(`${keyPath} holds keys of the wrong type; move it away to create a new identity`);
  }
  const signingPublic = createPublicKey(signingKey);
  const signingKeyRaw = rawPublicKey(signingPublic);
  const id = peerIdFromSigningKey(signingKeyRaw);
  const certPath = join(dataDir, CERT_FILE);
  let certificatePem = await readFile(certPath, 'utf8').catch(() => '');
  if (!certificateFitsKey(certificatePem, signingPublic)) {
    certificatePem = await createIdentityCertificate(id, signingKey, signingPublic);
    await writeAtomically(certPath, certificatePem, 0o644);
  }
  return {
    id,
    fingerprint: fingerprintOf(signingKeyRaw),
    signingKey,
    signingKeyRaw,
    sealingKey,
    sealingKeyRaw: rawPublicKey(sealingKey),
    privateKeyPem: keys.signingKey,
    certificatePem,
    certificateDer: Buffer.from(new X509Certificate(certificatePem).raw),
  };
}

async function readKeyFile(path: string): Promise<KeyFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IdentityFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) await chmod(path, 0o600);
  try {
    const parsed = JSON.parse(text) as Partial<KeyFile>;
    if (parsed.version !== 1 || typeof parsed.signingKey !== 'string' || typeof parsed.sealingKey !== 'string') {
      throw new Error('unexpected content');
    }
    return parsed as KeyFile;
  } catch (err) {
    throw new IdentityFileError(
      `${path} is damaged (${(err as Error).message}); restore it from a backup, or move it away to start as a new peer`,
    );
  }
}

async function createKeyFile(path: string): Promise<KeyFile> {
  const signing = generateKeyPairSync('ed25519');
  const sealing = generateKeyPairSync('x25519');
  const keys: KeyFile = {
    version: 1,
    signingKey: signing.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    sealingKey: sealing.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
  await writeAtomically(path, `${JSON.stringify(keys, null, 2)}\n`, 0o600);
  return keys;
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}
