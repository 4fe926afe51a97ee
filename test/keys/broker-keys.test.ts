/**
 * The broker key (src/keys/broker-keys.ts) is created in Key Vault only while no appliance depends on it: a
 * missing key with appliances registered is an operator's recovery job, never a silent new key that would
 * invalidate every appliance secret. The store is the port's small in-memory form here; the Key Vault adapter
 * itself is tested against the simulator in test/adapters/keyvault-secrets.test.ts.
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { SecretStore, StoredSecret } from '../../src/adapters/keyvault/port.js';
import { BROKER_KEY_SECRET_NAME, BrokerKeyMissing, createBrokerKeys } from '../../src/keys/broker-keys.js';

function memoryStore(): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: (name) =>
      Promise.resolve(
        values.has(name)
          ? ({ value: values.get(name)!, version: '1', updatedOn: new Date() } satisfies StoredSecret)
          : undefined,
      ),
    set: (name, value) => {
      values.set(name, value);
      return Promise.resolve('1');
    },
    delete: (name) => {
      values.delete(name);
      return Promise.resolve();
    },
  };
}

describe('broker key', () => {
  it('is created on first use while no appliance is registered, and then reused', async () => {
    const store = memoryStore();
    const keys = createBrokerKeys(store, () => Promise.resolve(false));
    const a = await keys.derive('p', 'x');
    expect(store.values.get(BROKER_KEY_SECRET_NAME)).toMatch(/^[\w-]{43}$/);
    expect(await createBrokerKeys(store, () => Promise.resolve(true)).derive('p', 'x')).toBe(a);
  });

  it('is never re-created while appliances are registered: the derivation fails until it is recovered', async () => {
    const store = memoryStore();
    const original = await createBrokerKeys(store, () => Promise.resolve(false)).derive('p', 'x');
    const saved = store.values.get(BROKER_KEY_SECRET_NAME)!;
    await store.delete(BROKER_KEY_SECRET_NAME);

    const keys = createBrokerKeys(store, () => Promise.resolve(true));
    await expect(keys.derive('p', 'x')).rejects.toBeInstanceOf(BrokerKeyMissing);
    expect(store.values.has(BROKER_KEY_SECRET_NAME)).toBe(false);
    // Recovered (az keyvault secret recover): the same instance picks it up on the next use.
    store.values.set(BROKER_KEY_SECRET_NAME, saved);
    expect(await keys.derive('p', 'x')).toBe(original);
  });
});
