/**
 * Refresh-token custody (src/grants/custody.ts) over the Key Vault key adapter
 * (src/adapters/keyvault/keyvault-keys.ts) with the real `@azure/keyvault-keys` SDK against the Key Vault
 * simulator's keys (simulators/keyvault/keys.ts) over real sockets: a sealed secret opens only for its grant and
 * untampered; what is stored holds neither the secret nor the data key in clear; an instance wraps one data key
 * and unwraps each data key once; another instance opens what the first sealed; a key that does not exist is
 * Key Vault's refusal, naming the key.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createKeyVaultKeyWrapping } from '../../src/adapters/keyvault/keyvault-keys.js';
import { SecretStoreRefused, type KeyWrapping } from '../../src/adapters/keyvault/port.js';
import { createCustody, SealBroken } from '../../src/grants/custody.js';
import { control } from '../helpers/sim-control.js';
import { brokerVaultCredential } from '../helpers/vault-identity.js';

async function newKey(): Promise<string> {
  const name = `grants-${randomBytes(4).toString('hex')}`;
  await control('POST', '/_sim/vault/keys', { name });
  return name;
}

const wrapping = (keyName: string) =>
  createKeyVaultKeyWrapping({ vaultUrl: inject('keyVaultUrl'), keyName, credential: brokerVaultCredential });

/** The port with its calls counted (the adapter underneath is the real one). */
function counted(inner: KeyWrapping) {
  const calls = { wrap: 0, unwrap: 0 };
  const keys: KeyWrapping = {
    wrap: (k) => (calls.wrap++, inner.wrap(k)),
    unwrap: (k) => (calls.unwrap++, inner.unwrap(k)),
  };
  return { keys, calls };
}

const REFRESH_TOKEN = `1.${'AXYA'.repeat(200)}`;

describe('Key Vault key wrapping (the real SDK against the simulator)', () => {
  it('wraps with the current key version and unwraps what it wrapped', async () => {
    const name = await newKey();
    const keys = wrapping(name);
    const dataKey = randomBytes(32);
    const wrapped = await keys.wrap(dataKey);
    expect(wrapped.keyId).toMatch(new RegExp(`/keys/${name}/[0-9a-f]{32}$`));
    expect(Buffer.from(wrapped.wrapped, 'base64url').equals(dataKey)).toBe(false);
    expect((await keys.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('gets Key Vault’s refusal for a key that does not exist, naming the key', async () => {
    const err = await wrapping('no-such-key')
      .wrap(randomBytes(32))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreRefused);
    expect((err as SecretStoreRefused).status).toBe(404);
    expect((err as Error).message).toContain('key "no-such-key"');
  });

  it('refuses to unwrap with another key what one key wrapped', async () => {
    const a = await newKey();
    const b = await newKey();
    const wrapped = await wrapping(a).wrap(randomBytes(32));
    await expect(wrapping(b).unwrap(wrapped)).rejects.toThrow(/wrapped by another key/);
  });
});

describe('custody of a refresh token (envelope encryption)', () => {
  it('opens for its grant what it sealed, and keeps nothing readable in what it stores', async () => {
    const custody = createCustody(wrapping(await newKey()));
    const sealed = await custody.seal(REFRESH_TOKEN, 'grant-1');
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain(REFRESH_TOKEN.slice(0, 40));
    expect(stored).not.toContain('AXYAAXYA');
    expect(await custody.open(sealed, 'grant-1')).toBe(REFRESH_TOKEN);
  });

  it('refuses a sealed value moved to another grant, or tampered with', async () => {
    const custody = createCustody(wrapping(await newKey()));
    const sealed = await custody.seal(REFRESH_TOKEN, 'grant-1');
    await expect(custody.open(sealed, 'grant-2')).rejects.toBeInstanceOf(SealBroken);
    const flipped = Buffer.from(sealed.ciphertext, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    await expect(
      custody.open({ ...sealed, ciphertext: flipped.toString('base64url') }, 'grant-1'),
    ).rejects.toBeInstanceOf(SealBroken);
    // A shortened tag: GCM would accept a 4-byte tag unless its length is fixed.
    await expect(custody.open({ ...sealed, tag: sealed.tag.slice(0, 6) }, 'grant-1')).rejects.toBeInstanceOf(
      SealBroken,
    );
    await expect(custody.open({ v: 2 } as never, 'grant-1')).rejects.toBeInstanceOf(SealBroken);
  });

  it('wraps one data key per instance and unwraps each data key once per instance', async () => {
    const name = await newKey();
    const first = counted(wrapping(name));
    const a = createCustody(first.keys);
    const sealed = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.seal(`${REFRESH_TOKEN}-${i}`, `grant-${i}`)),
    );
    expect(first.calls).toEqual({ wrap: 1, unwrap: 0 });
    expect(await a.open(sealed[3]!, 'grant-3')).toBe(`${REFRESH_TOKEN}-3`);
    expect(first.calls.unwrap).toBe(0); // its own data key, held since the wrap

    // Another instance: one unwrap for all twenty, even when they are opened at once.
    const second = counted(wrapping(name));
    const b = createCustody(second.keys);
    const opened = await Promise.all(sealed.map((s, i) => b.open(s, `grant-${i}`)));
    expect(opened[19]).toBe(`${REFRESH_TOKEN}-19`);
    expect(second.calls).toEqual({ wrap: 0, unwrap: 1 });
  });
});
