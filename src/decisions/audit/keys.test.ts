import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signCheckpoint, checkpointSignatureProblem } from './checkpoint-io.ts';
import { keyId, loadOrCreateSigningKey, loadPublicKey, publicKeyPem, resolvePublicKey, resolveSigningKey } from './keys.ts';

describe('audit signing keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-keys-'));
    vi.stubEnv('XDG_CONFIG_HOME', join(dir, 'config'));
    vi.stubEnv('FLOWGATE_AUDIT_KEY', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a 0600 PEM key once and reads the same key back', () => {
    const path = join(dir, 'nested', 'audit.pem');
    const created = loadOrCreateSigningKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(keyId(loadOrCreateSigningKey(path))).toBe(keyId(created));
    expect(keyId(loadPublicKey(path))).toBe(keyId(created));
    const pub = join(dir, 'audit.pub.pem');
    writeFileSync(pub, publicKeyPem(created));
    expect(keyId(loadPublicKey(pub))).toBe(keyId(created));
  });

  it('takes FLOWGATE_AUDIT_KEY as PEM text or as a path, before the default file', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    vi.stubEnv('FLOWGATE_AUDIT_KEY', privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    expect(keyId(resolveSigningKey())).toBe(keyId(privateKey));
    expect(keyId(resolvePublicKey() ?? privateKey)).toBe(keyId(privateKey));
    const path = join(dir, 'env.pem');
    vi.stubEnv('FLOWGATE_AUDIT_KEY', path);
    expect(resolvePublicKey()).toBeUndefined();
    const created = resolveSigningKey();
    expect(keyId(loadOrCreateSigningKey(path))).toBe(keyId(created));
    vi.stubEnv('FLOWGATE_AUDIT_KEY', '');
    expect(resolvePublicKey()).toBeUndefined();
    resolveSigningKey();
    expect(statSync(join(dir, 'config', 'flowgate', 'audit-ed25519.pem')).mode & 0o777).toBe(0o600);
  });

  it('refuses a key that is not Ed25519, naming the file', () => {
    const path = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expect(() => loadOrCreateSigningKey(path)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(path) as unknown }));
  });

  it('signs checkpoints that verify only with the same key and unchanged fields', () => {
    const key = loadOrCreateSigningKey(join(dir, 'k.pem'));
    const signed = signCheckpoint({ size: 3, merkleRoot: 'a'.repeat(64), chainHead: 'b'.repeat(64), time: 1_700_000_000 }, key);
    expect(checkpointSignatureProblem(signed, key)).toBeNull();
    expect(checkpointSignatureProblem(signed)).toBeNull();
    expect(checkpointSignatureProblem({ ...signed, time: signed.time + 1 })?.reason).toMatch(/does not verify/);
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(checkpointSignatureProblem(signed, other)).toMatchObject({ untrusted: true });
    // A forger who swaps in their own key and signature passes self-consistency, never the trusted key.
    const forged = signCheckpoint({ size: 99, merkleRoot: 'c'.repeat(64), chainHead: 'd'.repeat(64), time: 1 }, other);
    expect(checkpointSignatureProblem(forged)).toBeNull();
    expect(checkpointSignatureProblem(forged, key)).toMatchObject({ untrusted: true });
  });
});
