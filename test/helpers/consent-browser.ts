/**
 * A minimal browser for driving the consent flow over real sockets without Chromium: it follows redirects
 * by hand, keeps cookies per origin (the Entra simulator's session cookie), and submits the simulator's
 * forms with their hidden fields. The broker's public URL (BROKER_PUBLIC_URL of the test broker) is mapped
 * to the port the test broker really listens on.
 * @module
 */

export interface Visit {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

export class ConsentBrowser {
  private readonly cookies = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];

  constructor(
    private readonly brokerUrl: string,
    private readonly publicUrl = 'http://localhost:7071',
  ) {}

  /** GETs `url` and follows redirects until a page answers. */
  async open(url: string, maxHops = 10): Promise<Visit> {
    let current = url;
    for (let hop = 0; hop <= maxHops; hop++) {
      const res = await this.request(current, { method: 'GET' });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current).toString();
        continue;
      }
      return { url: current, status: res.status, headers: res.headers, body: await res.text() };
    }
    throw new Error(`more than ${maxHops} redirects from ${url}`);
  }

  /** Submits the first form of `page` with its hidden fields plus `fields`, then follows redirects. */
  async submit(page: Visit, fields: Record<string, string>): Promise<Visit> {
    const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
    if (!action) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 300)}`);
    const hidden = [...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map(
      ([, k, v]) => [k!, unescapeHtml(v!)] as [string, string],
    );
    const target = new URL(unescapeHtml(action), page.url).toString();
    const res = await this.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...hidden, ...Object.entries(fields)]).toString(),
    });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location)
      return this.open(new URL(location, target).toString());
    return { url: target, status: res.status, headers: res.headers, body: await res.text() };
  }

  /** The Cookie header this browser would send to `url` (the broker's public URL mapped as for requests). */
  cookieHeader(url: string): string {
    const real = url.startsWith(this.publicUrl) ? this.brokerUrl + url.slice(this.publicUrl.length) : url;
    return [...(this.cookies.get(new URL(real).origin) ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    const real = url.startsWith(this.publicUrl) ? this.brokerUrl + url.slice(this.publicUrl.length) : url;
    this.visited.push(url);
    const origin = new URL(real).origin;
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(real, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    this.cookies.set(origin, jar);
    return res;
  }
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
