import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DispatcherConfigError } from '../errors.js';

/** What the dispatcher keeps secret, made on first start and kept in its data dir (mode 0600). */
export interface DispatcherSecrets {
  /** Signs the tickets that let a user into their peer. */
  ticketKey: KeyObject;
  /** Its public half, which every peer is given at start. */
  ticketPublicKeyPem: string;
  ticketPublicKeyFile: string;
  /** Encrypts and authenticates session cookies (32 bytes): restarts keep everyone logged in. */
  sessionKey: Buffer;
  /** Peers present it to read the catalog. */
  catalogToken: string;
  adminPassword: string;
}

/** Reads the secrets, creating the missing ones. A file that exists but is unusable is an error, not replaced. */
export async function loadOrCreateSecrets(
  dataDir: string,
  adminPasswordFile: string | null,
): Promise<DispatcherSecrets> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const privatePem = await readOrCreate(join(dataDir, 'ticket-key.pem'), () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  let ticketKey: KeyObject;
  try {
    ticketKey = createPrivateKey(privatePem);
    if (ticketKey.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
  } catch {
    throw new DispatcherConfigError(
      `${join(dataDir, 'ticket-key.pem')} is not an Ed25519 private key: restore it, or remove it to make a new one (users then log in to their peers again)`,
    );
  }
  const ticketPublicKeyPem = createPublicKey(ticketKey).export({ type: 'spki', format: 'pem' }).toString();
  const ticketPublicKeyFile = join(dataDir, 'ticket-key.pub.pem');
  await writeFile(ticketPublicKeyFile, ticketPublicKeyPem, { mode: 0o644 });
  const sessionKey = Buffer.from(
    await readOrCreate(join(dataDir, 'session-key'), () => randomBytes(32).toString('base64')),
    'base64',
  );
  if (sessionKey.length !== 32) {
    throw new DispatcherConfigError(
      `${join(dataDir, 'session-key')} must hold 32 bytes in base64: remove it to make a new one`,
    );
  }
  const catalogToken = await readOrCreate(join(dataDir, 'catalog-token'), () => randomBytes(24).toString('base64url'));
  const adminPassword = adminPasswordFile
    ? await readConfigured(adminPasswordFile)
    : await readOrCreate(join(dataDir, 'admin-password'), () => randomBytes(12).toString('base64url'));
  return { ticketKey, ticketPublicKeyPem, ticketPublicKeyFile, sessionKey, catalogToken, adminPassword };
}

async function readOrCreate(path: string, make: () => string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = make();
  // 'wx': two dispatchers starting at once on one data dir must not overwrite each other's.
  try {
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw err;
  }
}

async function readConfigured(path: string): Promise<string> {
  let value: string;
  try {
    value = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new DispatcherConfigError(`cannot read the admin password file ${path} (${(err as Error).message})`);
  }
  if (value.length < 12)
    throw new DispatcherConfigError(`the admin password in ${path} must have at least 12 characters`);
  return value;
}
