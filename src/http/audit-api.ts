/**
 * `GET /api/audit?tenantId=…&since=…` (SPEC.md "Vendor support"): who did what when, for one tenant (or, with
 * no tenantId, the broker's own entries such as onboardings created), oldest first, paged.
 * @module
 */
import type { AuditLog } from '../audit/audit-log.js';
import { badRequest } from './problem.js';
import { checkContinuationToken, parseTop, strictQuery } from './support-api.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { GUID } from '../ids.js';
import { AUDIT_PAGE_SIZE } from './routes/limits.js';

export async function listAudit(deps: { audit: AuditLog }, request: HttpRequestLike): Promise<HttpReply> {
  const q = strictQuery(request, ['tenantId', 'since', 'top', 'continuationToken']);
  const tenantId = q.get('tenantId');
  if (tenantId !== undefined && !GUID.test(tenantId)) throw badRequest('tenantId must be a GUID.');
  const sinceText = q.get('since');
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
  const continuationToken = q.get('continuationToken');
  checkContinuationToken(continuationToken);
  const page = await deps.audit.list({
    tenantId: tenantId?.toLowerCase() ?? null,
    since,
    top: parseTop(q.get('top'), AUDIT_PAGE_SIZE.default, AUDIT_PAGE_SIZE.max),
    continuationToken,
  });
  return jsonReply(200, page, { 'cache-control': 'no-store' });
}
