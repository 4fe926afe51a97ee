/**
 * What the consent flow needs (its dependencies and the admin sign-in port) and what its browser steps end in
 * (src/consent/flow.ts, src/consent/appliance-confirmation.ts).
 * @module
 */
import type { Cloud } from '../cloud/clouds.js';
import type { Appliance, ApplianceStore } from '../appliances/appliance-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import type { Profiles } from '../profiles/profiles.js';
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';
import { type Onboarding, type OnboardingStore } from './onboarding-store.js';
import { type ProofDeps } from './proof.js';
import { type StateStore } from './state-store.js';

/** What the flow needs of the admin's OpenID Connect sign-in (src/adapters/entra). */
export interface AdminSignInPort {
  authorizationUrl(request: {
    tenantId: string;
    redirectUri: string;
    state: string;
    nonce: string;
    codeChallenge: string;
    prompt?: 'none' | 'select_account' | 'login';
  }): Promise<string>;
  redeemCode(request: {
    tenantId: string;
    code: string;
    redirectUri: string;
    codeVerifier: string;
    nonce: string;
  }): Promise<SignedInAdmin>;
}

export interface SignedInAdmin {
  readonly tenantId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly directoryRoleIds: readonly string[];
  readonly isGuest: boolean;
}

export interface ConsentSettings {
  /** The cloud served (BROKER_CLOUD): its names in generated PowerShell. */
  readonly cloud: Cloud;
  readonly publicUrl: string;
  readonly entraAuthorityHost: string;
  readonly homeAppClientId: string;
  readonly stateTtlSeconds: number;
  /**
   * Zero-touch enrollment (BROKER_ENROLLMENT): `off`, `onboarded` (only into tenants already active or degraded;
   * the default) or `open` (any tenant whose admin consents).
   */
  readonly enrollment?: 'off' | 'onboarded' | 'open';
}

export interface ConsentDeps extends ProofDeps {
  readonly settings: ConsentSettings;
  readonly profiles: Profiles;
  readonly onboardings: OnboardingStore;
  readonly states: StateStore;
  readonly tenants: TenantStore;
  readonly audit: AuditLog;
  readonly keys: BrokerKeys;
  readonly signIn: AdminSignInPort;
  /** Appliances, for an onboarding bound to one (its "Authorize" button): bound to the tenant on consent. */
  readonly appliances?: ApplianceStore;
  /** Forgets this instance's cached copy of an appliance after it changed. */
  readonly directory?: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
  /** RFC 7636 §4.2 S256 challenge of a verifier. */
  readonly codeChallengeFor: (verifier: string) => string;
  readonly now: () => Date;
}

export type ConsentOutcome =
  | {
      readonly kind: 'granted' | 'incomplete';
      readonly tenant: TenantRecord;
      readonly onboarding: Onboarding;
    }
  | { readonly kind: 'verifying'; readonly tenant: TenantRecord; readonly onboarding: Onboarding }
  | {
      /** The consent is recorded; binding the onboarding's appliance waits for the admin to confirm it. */
      readonly kind: 'confirm';
      readonly tenant: TenantRecord;
      readonly onboarding: Onboarding;
      readonly appliance: Pick<Appliance, 'clientId' | 'customerRef' | 'profiles'>;
      /** The CSRF token of the confirmation form: a single-use state bound to this browser. */
      readonly confirmState: string;
    };

export type SigninResult = { readonly redirect: string } | { readonly outcome: ConsentOutcome };
