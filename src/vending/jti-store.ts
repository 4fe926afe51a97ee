/**
 * RFC 7523 §3 (7): a client assertion's `jti` is accepted once, across every instance: the use is an
 * insert-if-absent in Table Storage, which exactly one caller wins. Table `assertions`, partition the client
 * id, row key the jti's SHA-256; `expiresAt` says when the row may be deleted (the assertion's `exp`).
 * @module
 */
import { createHash } from 'node:crypto';
import { RowExists, type TableStorage } from '../adapters/tables/port.js';

export interface JtiStore {
  /** Records the jti; false when it was seen before (a replay). */
  use(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
}

export function createJtiStore(storage: TableStorage): JtiStore {
  const table = storage.table('assertions');
  return {
    async use(clientId, jti, expiresAt) {
      try {
        await table.insert({
          partitionKey: clientId,
          rowKey: createHash('sha256').update(jti).digest('base64url'),
          expiresAt: expiresAt.toISOString(),
        });
        return true;
      } catch (err) {
        if (err instanceof RowExists) return false;
        throw err;
      }
    },
  };
}
