/**
 * The support API's appliance routes (SPEC.md "Vendor support"), registered by functions/appliances.ts
 * behind `asStaff`; behaviour in src/http/appliances-api.ts.
 * @module
 */
import { jsonBodyErrors, noStore, ok, queryParam, supportErrors } from '../openapi/answers.js';
import { headerRef, json, parameterRef, responseRef } from '../openapi/components.js';
import { ref } from '../openapi/schemas.js';
import { GUID_PATTERN, PROFILE_NAME_PATTERN } from '../../ids.js';
import { family } from './types.js';

export const applianceRoutes = family('support', {
  createAppliance: {
    method: 'POST',
    route: 'api/appliances',
    access: 'Broker.Admin',
    summary: 'Register an appliance',
    requestBody: { required: true, content: json(ref('ApplianceRequest')) },
    responses: {
      '201': ok('Created; the client secret is shown only here.', 'ApplianceCreated', {
        Location: headerRef('Location'),
      }),
      ...supportErrors(jsonBodyErrors),
    },
  },
  listAppliances: {
    method: 'GET',
    route: 'api/appliances',
    access: 'Broker.Read',
    summary: 'List appliances',
    query: [
      queryParam('tenantId', 'Only appliances bound to this tenant.', {
        type: 'string',
        pattern: GUID_PATTERN,
      }),
      queryParam(
        'profile',
        'Only appliances allowed this profile (e.g. `exchange-ews`, to plan its end); a page may then hold fewer than `top`, follow `continuationToken`.',
        { type: 'string', pattern: PROFILE_NAME_PATTERN },
      ),
      parameterRef('Top'),
      parameterRef('ContinuationToken'),
    ],
    responses: { '200': ok('A page of appliances.', 'ApplianceList'), ...supportErrors() },
  },
  getAppliance: {
    method: 'GET',
    route: 'api/appliances/{clientId}',
    access: 'Broker.Read',
    summary: 'An appliance',
    responses: {
      '200': ok('The appliance.', 'Appliance'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  revokeAppliance: {
    method: 'DELETE',
    route: 'api/appliances/{clientId}',
    access: 'Broker.Admin',
    summary: 'Revoke an appliance',
    description: 'Takes effect on every instance within 60 s at most.',
    responses: {
      '204': { description: 'Revoked.', headers: noStore },
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  rotateApplianceSecret: {
    method: 'POST',
    route: 'api/appliances/{clientId}/secret',
    access: 'Broker.Admin',
    summary: "Rotate an appliance's client secret",
    responses: {
      '200': ok('The new secret; the old one works until `previousSecretValidUntil`.', 'SecretRotated'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
});
