/**
 * A customer tenant that consented through the real flow: tenant and Global Administrator created in the
 * simulator, an onboarding made with the support API, and the consent given in the (fetch-driven) browser.
 * @module
 */
import { ConsentBrowser } from './consent-browser.js';
import { control, newTenant } from './sim-control.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';

export interface ConsentedTenant {
  readonly tenantId: string;
  readonly domain: string;
}

export async function consentedTenant(
  brokerUrl: string,
  staffToken: string,
  name: string,
  profiles?: string[],
): Promise<ConsentedTenant> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const domain = `${slug}.example`;
  const tenantId = await newTenant(name, [domain]);
  await control('POST', `/_sim/tenants/${tenantId}/users`, {
    userPrincipalName: `admin@${domain}`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const res = await fetch(`${brokerUrl}/api/onboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staffToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef: `REF-${slug}`, ...(profiles ? { profiles } : {}) }),
  });
  if (res.status !== 201) throw new Error(`onboarding: ${res.status} ${await res.text()}`);
  const { consentUrl } = (await res.json()) as { consentUrl: string };
  const browser = new ConsentBrowser(brokerUrl);
  const page = await browser.submit(await browser.open(`${consentUrl}/go`), {
    user: `admin@${domain}`,
    decision: 'approve',
  });
  if (page.status !== 200) throw new Error(`consent: ${page.status}`);
  return { tenantId, domain };
}
