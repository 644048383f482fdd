import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { FlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';

/**
 * Ed25519 keys for signing audit checkpoints. The private key lives apart from the store on
 * purpose: whoever can write the store must not also be able to sign for it.
 */

/** Where the signing key lives by default: the user's config directory, never beside the store. */
export function defaultSigningKeyPath(): string {
  const configHome = process.env['XDG_CONFIG_HOME'];
  const base = configHome !== undefined && configHome !== '' ? configHome : join(homedir(), '.config');
  return join(base, 'flowgate', 'audit-ed25519.pem');
}

/** Reads the PEM private key at `path`, or creates one there (mode 0600) when the file is missing. */
export function loadOrCreateSigningKey(path: string): KeyObject {
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // `wx` fails when another process created the key meanwhile; that key then wins.
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
      return privateKey;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new FlowgateError('CONFIG_INVALID', `Cannot create the audit signing key at ${path}: ${(error as Error).message}. Pass --key with a writable path.`, {
          cause: error,
          details: { path },
        });
      }
    }
  }
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0) log.warn({ path, mode: mode.toString(8) }, 'the audit signing key is readable by other users; chmod 600 it');
  return parsePrivateKey(readKeyFile(path), path);
}

/** The signing key to use: the --key path, else FLOWGATE_AUDIT_KEY (a PEM or a path), else the default file. */
export function resolveSigningKey(path?: string): KeyObject {
  if (path !== undefined && path !== '') return loadOrCreateSigningKey(path);
  const fromEnv = process.env['FLOWGATE_AUDIT_KEY'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.includes('-----BEGIN')) return parsePrivateKey(fromEnv, 'FLOWGATE_AUDIT_KEY');
    return loadOrCreateSigningKey(fromEnv);
  }
  return loadOrCreateSigningKey(defaultSigningKeyPath());
}

/**
 * The trusted public key for verification: from a PEM file (public or private), else the one of
 * FLOWGATE_AUDIT_KEY or the default signing key when it exists; undefined when there is none.
 */
export function resolvePublicKey(path?: string): KeyObject | undefined {
  if (path !== undefined && path !== '') return loadPublicKey(path);
  const fromEnv = process.env['FLOWGATE_AUDIT_KEY'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.includes('-----BEGIN')) return createPublicKey(parsePrivateKey(fromEnv, 'FLOWGATE_AUDIT_KEY'));
    return existsSync(fromEnv) ? loadPublicKey(fromEnv) : undefined;
  }
  const fallback = defaultSigningKeyPath();
  return existsSync(fallback) ? loadPublicKey(fallback) : undefined;
}

/** Reads an Ed25519 public key from a PEM file holding either the public or the private key. */
export function loadPublicKey(path: string): KeyObject {
  const pem = readKeyFile(path);
  try {
    const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
    return requireEd25519(key, path);
  } catch (error) {
    if (error instanceof FlowgateError) throw error;
    throw new FlowgateError('CONFIG_INVALID', `${path} is not a PEM Ed25519 key: ${(error as Error).message}.`, { cause: error, details: { path } });
  }
}

/** The PEM text of a key's public half, to hand to verifiers. */
export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ format: 'pem', type: 'spki' }) as string;
}

/** The raw 32-byte Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** The public key for 32 raw bytes given as base64. */
export function publicKeyFromRaw(base64: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(base64, 'base64').toString('base64url') }, format: 'jwk' });
}

/** A short, stable name for a key: the first 16 hex digits of SHA-256 of its raw public key. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new FlowgateError('CONFIG_INVALID', `Cannot read the key file ${path}: ${(error as Error).message}. Check the path.`, {
      cause: error,
      details: { path },
    });
  }
}

function parsePrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new FlowgateError('CONFIG_INVALID', `${source} does not hold a PEM private key: ${(error as Error).message}.`, {
      cause: error,
      details: { source },
    });
  }
  return requireEd25519(key, source);
}

function requireEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FlowgateError('CONFIG_INVALID', `${source} holds a ${String(key.asymmetricKeyType)} key; audit checkpoints need an Ed25519 key.`, {
      details: { source },
    });
  }
  return key;
}
