/**
 * Real Chromium for tests of server-rendered pages: the Debian `chromium` package driven by playwright-core
 * (no browser download). Reusable by any browser test, e.g. an end-to-end run through the consent flow and
 * the Entra simulator's HTTPS pages:
 *
 * ```ts
 * const browser = await launchBrowser({ trust: { caPath: inject('caBundlePath'), origins: [inject('entraUrl')] } });
 * const { page, cspViolations } = await browser.newPage();
 * await page.goto(url);
 * await saveScreenshot(page, 'consent-landing');
 * await browser.close();
 * ```
 *
 * Trusting the sandbox CA. Chromium does not read NODE_EXTRA_CA_CERTS, Playwright has no option for a CA,
 * and on Linux Chromium's own trust store is an NSS database in $HOME/.pki/nssdb, writable only with
 * `certutil` (another Debian package) and shared by every Chromium run as that user. Instead, Node checks
 * each sandbox origin's certificate against the CA file exactly as the broker does (tls.connect with `ca`,
 * rejectUnauthorized), and Chromium is told to accept exactly the public keys that check passed:
 * `--ignore-certificate-errors-spki-list=<base64 SHA-256 of the SubjectPublicKeyInfo>` (honoured only with
 * a `--user-data-dir`, which playwright's `launch` always passes: a fresh temporary profile per launch).
 * Any other certificate error (another key, an unknown CA, a wrong host) still fails the navigation; this
 * is not `ignoreHTTPSErrors`.
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // tests run as root in containers, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} not found: browser tests skipped (install Debian "chromium"; .ci/run does)`;
}

export interface TrustOptions {
  /** PEM file of the CA(s) to trust, e.g. `inject('caBundlePath')`. */
  readonly caPath: string;
  /** The https origins (or URLs) served under that CA, e.g. `inject('entraUrl')`. */
  readonly origins: readonly string[];
}

export interface LaunchOptions {
  readonly trust?: TrustOptions;
}

export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors and uncaught page errors so far. */
  readonly errors: string[];
  /** Content-Security-Policy violations reported so far by the current document and the console. */
  cspViolations(): Promise<string[]>;
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A page in a context of its own (no shared cookies), watched for CSP violations and errors. */
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<WatchedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const spkis = options.trust ? await trustedSpkiHashes(options.trust) : [];
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      ...(spkis.length > 0 ? [`--ignore-certificate-errors-spki-list=${spkis.join(',')}`] : []),
    ],
  });
  return {
    browser,
    newPage: (pageOptions) => watchedPage(browser, pageOptions?.viewport),
    close: () => browser.close(),
  };
}

// Runs before any script of the page, outside its CSP (CDP Page.addScriptToEvaluateOnNewDocument).
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
  });
`;

async function watchedPage(
  browser: Browser,
  viewport: { width: number; height: number } | undefined,
): Promise<WatchedPage> {
  const context = await browser.newContext(viewport ? { viewport } : {});
  await context.addInitScript({ content: RECORD_CSP_VIOLATIONS });
  const page = await context.newPage();
  const errors: string[] = [];
  const consoleCsp: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) consoleCsp.push(message.text());
    else if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return {
    page,
    context,
    errors,
    async cspViolations() {
      const seen = await page.evaluate<string[]>('window.__cspViolations ?? []');
      return [...seen, ...consoleCsp];
    },
  };
}

/**
 * Base64 SHA-256 hashes of the public keys that the given origins present, each checked against the CA file
 * first: an origin whose certificate the CA does not vouch for (or that cannot be reached) throws.
 */
export async function trustedSpkiHashes(trust: TrustOptions): Promise<string[]> {
  const ca = await readFile(trust.caPath, 'utf8');
  const hashes = await Promise.all(
    trust.origins.map((origin) => peerSpkiHash(new URL(origin), ca, trust.caPath)),
  );
  return [...new Set(hashes)];
}

function peerSpkiHash(url: URL, ca: string, caPath: string): Promise<string> {
  if (url.protocol !== 'https:') throw new Error(`${url.origin} is not https: nothing to trust`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host,
        port: Number(url.port || 443),
        ca,
        rejectUnauthorized: true,
        ...(isIP(host) ? {} : { servername: host }),
      },
      () => {
        const leaf = socket.getPeerCertificate();
        socket.end();
        const spki = new X509Certificate(leaf.raw).publicKey.export({ type: 'spki', format: 'der' });
        resolve(createHash('sha256').update(spki).digest('base64'));
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error(`${url.origin}: TLS handshake timed out`)));
    socket.once('error', (err) =>
      reject(new Error(`${url.origin}: its certificate cannot be verified with ${caPath}`, { cause: err })),
    );
  });
}

/** Saves a full-page PNG as test-artifacts/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** An sRGB colour with alpha, as `getComputedStyle` reports it (`rgb(…)` / `rgba(…)`). */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

export function parseCssColor(css: string): Rgba {
  const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)$/.exec(css.trim());
  if (!m) throw new Error(`cannot read colour ${JSON.stringify(css)}`);
  return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a: m[4] === undefined ? 1 : Number(m[4]) };
}

/** WCAG 2.2 contrast ratio of two opaque colours (definition of "contrast ratio" and "relative luminance"). */
export function contrastRatio(a: Rgba, b: Rgba): number {
  const luminance = ({ r, g, b: blue }: Rgba) => {
    const lin = (c: number) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(blue);
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export interface ComputedColours {
  readonly color: string;
  /** The first non-transparent background of the element or an ancestor (white when none). */
  readonly background: string;
  readonly outlineStyle: string;
  readonly outlineWidth: string;
  readonly outlineColor: string;
  readonly text: string;
}

/**
 * Computed colours of the first element matching `selector` (or of the focused element when `selector` is
 * ':focus'). Written as a string so that it runs in the page as is (this project compiles without DOM types).
 */
export async function computedColours(page: Page, selector: string): Promise<ComputedColours> {
  const result = await page.evaluate<ComputedColours | null>(`(() => {
    const el = ${JSON.stringify(selector)} === ':focus' ? document.activeElement : document.querySelector(${JSON.stringify(selector)});
    if (!el) return null;
    const own = getComputedStyle(el);
    let background = 'rgb(255, 255, 255)';
    for (let n = el; n; n = n.parentElement) {
      const bg = getComputedStyle(n).backgroundColor;
      if (bg && bg !== 'transparent' && !(bg.startsWith('rgba(') && bg.endsWith(', 0)'))) { background = bg; break; }
    }
    return {
      color: own.color, background,
      outlineStyle: own.outlineStyle, outlineWidth: own.outlineWidth, outlineColor: own.outlineColor,
      text: (el.textContent || '').trim(),
    };
  })()`);
  if (!result) throw new Error(`no element matches ${selector}`);
  return result;
}
