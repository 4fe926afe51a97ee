/**
 * One map from an outside service's failure to what every surface answers (SPEC.md "Guarantees": an outage
 * is a 503 with `Retry-After`, never a 500): the token endpoint as RFC 6749 §5.2 `temporarily_unavailable`
 * (src/http/token-endpoint.ts), the browser pages as the "temporarily unavailable" page
 * (src/http/consent-endpoints.ts), the JSON APIs as problem+json 503 (src/http/support-api.ts,
 * src/http/appliance-onboardings.ts). Errors are matched by their class, each the one its port declares.
 * @module
 */
import { EntraUnavailable } from '../adapters/entra/port.js';
import { GraphUnavailable } from '../adapters/graph/port.js';
import { SecretStoreUnavailable } from '../adapters/keyvault/port.js';
import { StorageUnavailable } from '../adapters/tables/port.js';
import { BrokerKeyMissing } from '../keys/broker-keys.js';
import { TokenUnavailable } from '../vending/token-cache-contract.js';

export type OutsideService = 'Table Storage' | 'Key Vault' | 'Microsoft Entra ID' | 'Microsoft Graph';

export interface Outage {
  readonly service: OutsideService;
  /** At least 1 s. */
  readonly retryAfterSeconds: number;
  /** An operator must act (e.g. the broker key is missing from Key Vault): worth an error in the log. */
  readonly operatorAction: boolean;
}

/** How long a client waits when the broker key is missing: an operator has to restore it. */
const BROKER_KEY_RETRY_SECONDS = 60;

/** The outage `err` stands for, or undefined when it is not one. */
export function outageOf(err: unknown): Outage | undefined {
  const of = (service: OutsideService, seconds: number, operatorAction = false): Outage => ({
    service,
    retryAfterSeconds: Math.max(1, Math.ceil(seconds)),
    operatorAction,
  });
  if (err instanceof StorageUnavailable) return of('Table Storage', err.retryAfterSeconds);
  if (err instanceof SecretStoreUnavailable) return of('Key Vault', err.retryAfterSeconds);
  if (err instanceof BrokerKeyMissing) return of('Key Vault', BROKER_KEY_RETRY_SECONDS, true);
  if (err instanceof EntraUnavailable || err instanceof TokenUnavailable)
    return of('Microsoft Entra ID', err.retryAfterSeconds);
  if (err instanceof GraphUnavailable) return of('Microsoft Graph', err.retryAfterSeconds);
  return undefined;
}
