/**
 * A certificate credential given as PEM text: the certificate and its PKCS#8 private key, as Key Vault exports
 * a certificate with its key (`application/x-pem-file`, FACTS.md §8.4) and as a customer pastes it. MSAL wants
 * the key, the SHA-256 thumbprint (sent as `x5t#S256`; SHA-1 `thumbprint` is deprecated, FACTS.md §9) and the
 * certificate (`x5c`).
 * @module
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

export interface PemCertificate {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly thumbprintSha256: string;
  readonly validTo: Date;
}

/** Why the PEM cannot be used, in words that never quote it. */
export type PemProblem = 'missing-blocks' | 'unparsable-certificate';

/**
 * The key and the certificate of that key. Key Vault's PEM export holds the key, then the chain (leaf first
 * unless `preserveCertOrder` was set on import); the certificate whose public key matches the private key is
 * the one Entra knows, whatever its place, and the first one is used when none matches (or the key cannot be
 * read here), as before.
 */
export function parseCertificatePem(pem: string): PemCertificate | PemProblem {
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const certs = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
    (m) => m[0],
  );
  if (!key || !certs.length) return 'missing-blocks';
  const parsed: { pem: string; x509: X509Certificate }[] = [];
  for (const c of certs) {
    try {
      parsed.push({ pem: c, x509: new X509Certificate(c) });
    } catch {
      return 'unparsable-certificate';
    }
  }
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    privateKey = undefined;
  }
  const { pem: cert, x509 } =
    (privateKey && parsed.find((p) => p.x509.checkPrivateKey(privateKey))) ?? parsed[0]!;
  return {
    privateKeyPem: key,
    certificatePem: cert,
    thumbprintSha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    validTo: new Date(x509.validTo),
  };
}
