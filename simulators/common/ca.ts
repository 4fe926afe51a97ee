/**
 * The sandbox certificate authority: generated on first start, kept under the data folder, and used to
 * issue the TLS certificate that every simulator serves (localhost, 127.0.0.1, ::1). The broker process
 * trusts it through NODE_EXTRA_CA_CERTS, next to any bundle it inherited.
 * @module
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface SandboxTls {
  /** PEM of the CA certificate to trust. */
  readonly caCertPem: string;
  /** Path of the CA certificate file, for NODE_EXTRA_CA_CERTS. */
  readonly caCertPath: string;
  /** PEM of the server certificate followed by nothing else (the CA is trusted directly). */
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const files = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

/** Loads the CA and server certificate from `dir`, creating them when any file is missing or unreadable. */
export async function loadOrCreateSandboxTls(dir: string): Promise<SandboxTls> {
  await mkdir(dir, { recursive: true });
  const caCertPath = join(dir, files.ca);
  try {
    const [caCertPem, serverCertPem, serverKeyPem] = await Promise.all(
      [files.ca, files.cert, files.key].map((f) => readFile(join(dir, f), 'utf8')),
    );
    const server = new x509.X509Certificate(serverCertPem!);
    // Renew a week before expiry rather than serving an expired certificate.
    if (server.notAfter.getTime() - Date.now() > 7 * 86_400_000) {
      return {
        caCertPem: caCertPem!,
        caCertPath,
        serverCertPem: serverCertPem!,
        serverKeyPem: serverKeyPem!,
      };
    }
  } catch (err) {
    if (!isMissingFile(err)) throw err;
  }
  return createSandboxTls(dir, caCertPath);
}

async function createSandboxTls(dir: string, caCertPath: string): Promise<SandboxTls> {
  const now = new Date(Date.now() - 60_000);
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=Consent Broker sandbox CA, O=Consent Broker sandbox',
    notBefore: now,
    notAfter: new Date(now.getTime() + 5 * 365 * 86_400_000),
    signingAlgorithm: alg,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
    signingAlgorithm: alg,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  const caCertPem = ca.toString('pem');
  const serverCertPem = server.toString('pem');
  const serverKeyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey));
  const caKeyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', caKeys.privateKey));
  await writeFile(join(dir, files.caKey), caKeyPem, { mode: 0o600 });
  await writeFile(join(dir, files.key), serverKeyPem, { mode: 0o600 });
  await writeFile(join(dir, files.cert), serverCertPem);
  await writeFile(caCertPath, caCertPem);
  return { caCertPem, caCertPath, serverCertPem, serverKeyPem };
}

function toPem(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`.replace('\n\n', '\n');
}

function randomSerial(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets.
  return '01' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex');
}

function isMissingFile(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'ENOENT';
}
