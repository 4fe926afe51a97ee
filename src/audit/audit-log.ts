/**
 * Who did what when (SPEC.md `GET /api/audit`): consents, verifications, refused attempts, appliance and
 * support actions. Rows in the `audit` table, partitioned by tenant (or `broker` for entries without one),
 * keyed by time so that a partition reads in order. Entries carry ids and names, never a secret or token.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TableStorage } from '../adapters/tables/port.js';
import type { BrokerMetrics } from '../adapters/telemetry/port.js';

export interface AuditActor {
  /** `user`: a mailbox's user signing in for a mailbox grant (src/grants/grant-sign-in.ts). */
  readonly kind: 'staff' | 'admin' | 'user' | 'appliance' | 'system' | 'anonymous';
  /** An object id, client id or "broker"; never a credential. */
  readonly id: string;
  readonly name?: string;
}

export type AuditOutcome = 'success' | 'refused' | 'failed';

export interface AuditEntry {
  readonly at: string;
  readonly action: string;
  readonly tenantId: string | null;
  readonly actor: AuditActor;
  /** What the action was done to: an appliance's client id, an onboarding id, or the tenant. */
  readonly target: string | null;
  readonly outcome: AuditOutcome;
  /** The Functions invocation id of the request or timer run that wrote it (`withCorrelation`, set per invocation by functions/runtime.ts). */
  readonly correlationId: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Actions that record a refusal or a failure rather than something done. */
const OUTCOMES: Readonly<Record<string, AuditOutcome>> = {
  'consent.rejected': 'refused',
  'console.sign_in_refused': 'refused',
  'appliance.bind_refused': 'refused',
  'consent.failed': 'failed',
  'consent.unproven': 'failed',
  'consent.unusable': 'failed',
  'mailbox_grant.reauth_required': 'failed',
};

export interface AuditLog {
  write(
    entry: Omit<AuditEntry, 'at' | 'target' | 'outcome' | 'correlationId'> & {
      at?: Date;
      target?: string | null;
      outcome?: AuditOutcome;
    },
  ): Promise<void>;
  /** The same log, stamping every entry it writes with this correlation id (the request's invocation id). */
  withCorrelation(correlationId: string): AuditLog;
  /** Entries of a tenant (or of the broker when `tenantId` is null) from `since` on, oldest first. */
  list(query: { tenantId: string | null; since?: Date; top: number; continuationToken?: string }): Promise<{
    items: AuditEntry[];
    continuationToken?: string;
  }>;
}

const BROKER_PARTITION = 'broker';

export function createAuditLog(
  storage: TableStorage,
  now: () => Date = () => new Date(),
  correlationId?: string,
): AuditLog {
  const table = storage.table('audit');
  return {
    withCorrelation: (id) => createAuditLog(storage, now, id),
    async write(entry) {
      const at = (entry.at ?? now()).toISOString();
      await table.insert({
        partitionKey: entry.tenantId ?? BROKER_PARTITION,
        // ISO time sorts lexically; the random tail keeps two entries of one millisecond apart.
        rowKey: `${at}-${randomBytes(6).toString('hex')}`,
        at,
        action: entry.action,
        target: entry.target ?? targetOf(entry.details) ?? entry.tenantId,
        outcome: entry.outcome ?? OUTCOMES[entry.action] ?? 'success',
        correlationId: correlationId ?? randomUUID(),
        actor: JSON.stringify(entry.actor),
        details: JSON.stringify(entry.details),
      });
    },
    async list({ tenantId, since, top, continuationToken }) {
      const page = await table.query({
        partitionKey: tenantId ?? BROKER_PARTITION,
        rowKeyFrom: since?.toISOString(),
        top,
        continuationToken,
      });
      const items = page.rows.map((r): AuditEntry => ({
        at: String(r.at),
        action: String(r.action),
        tenantId,
        actor: JSON.parse(String(r.actor)) as AuditActor,
        target: typeof r.target === 'string' ? r.target : null,
        outcome: (typeof r.outcome === 'string' ? r.outcome : 'success') as AuditOutcome,
        correlationId: typeof r.correlationId === 'string' ? r.correlationId : '',
        details: JSON.parse(String(r.details)) as Record<string, unknown>,
      }));
      return page.continuationToken ? { items, continuationToken: page.continuationToken } : { items };
    },
  };
}

const CONSENT_ACTION = 'consent.';

/**
 * The same log, also counting every consent outcome it is given (`consent.granted` → `granted`, with the
 * entry's AADSTS `code` or rejection `reason`) as a metric: one place sees all of them, from the callback, the
 * background re-checks and the support API's checks alike. Counted when written, whether or not the row is.
 */
export function countingConsentOutcomes(
  log: AuditLog,
  metrics: Pick<BrokerMetrics, 'consentOutcome'>,
): AuditLog {
  return {
    write(entry) {
      if (entry.action.startsWith(CONSENT_ACTION)) {
        const code = entry.details.code ?? entry.details.reason;
        metrics.consentOutcome(
          entry.action.slice(CONSENT_ACTION.length),
          typeof code === 'string' ? code : undefined,
        );
      }
      return log.write(entry);
    },
    withCorrelation: (id) => countingConsentOutcomes(log.withCorrelation(id), metrics),
    list: (query) => log.list(query),
  };
}

function targetOf(details: Readonly<Record<string, unknown>>): string | undefined {
  for (const key of ['clientId', 'onboardingId'] as const) {
    if (typeof details[key] === 'string') return details[key];
  }
  return undefined;
}
