/**
 * `GET /api/audit?tenantId=…&since=…` (SPEC.md "Vendor support"): who did what when, for one tenant (or, with
 * no tenantId, the broker's own entries such as onboardings created), oldest first, paged.
 * @module
 */
import type { AuditLog } from '../audit/audit-log.js';
import { badRequest } from './problem.js';
import { readQuery } from './routes/query.js';
import { tenantRoutes } from './routes/support.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { AUDIT_PAGE_SIZE } from './routes/limits.js';

export async function listAudit(deps: { audit: AuditLog }, request: HttpRequestLike): Promise<HttpReply> {
  // Names, the tenant id format, page size, continuation token: the declaration's query
  // (src/http/routes/support.ts), checked by readQuery; `since` is parsed here (formats are not asserted).
  const {
    tenantId,
    since: sinceText,
    top,
    continuationToken,
  } = readQuery<{ tenantId?: string; since?: string; top?: number; continuationToken?: string }>(
    tenantRoutes.listAudit,
    request,
  );
  let since: Date | undefined;
  if (sinceText !== undefined) {
    // RFC 3339 date-time, e.g. 2026-11-24T00:00:00Z.
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(sinceText) ||
      Number.isNaN(Date.parse(sinceText))
    ) {
      throw badRequest('since must be an RFC 3339 date-time, e.g. 2026-11-24T00:00:00Z.');
    }
    since = new Date(sinceText);
  }
  const page = await deps.audit.list({
    tenantId: tenantId?.toLowerCase() ?? null,
    since,
    top: top ?? AUDIT_PAGE_SIZE.default,
    continuationToken,
  });
  return jsonReply(200, page, { 'cache-control': 'no-store' });
}
