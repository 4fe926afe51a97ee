/**
 * A certificate credential given as PEM text: the certificate and its PKCS#8 private key, as Key Vault exports
 * a certificate with its key (`application/x-pem-file`, FACTS.md §8.4) and as a customer pastes it. MSAL wants
 * the key, the SHA-256 thumbprint (sent as `x5t#S256`; SHA-1 `thumbprint` is deprecated, FACTS.md §9) and the
 * certificate (`x5c`).
 * @module
 */
import { X509Certificate } from 'node:crypto';

export interface PemCertificate {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly thumbprintSha256: string;
  readonly validTo: Date;
}

/** Why the PEM cannot be used, in words that never quote it. */
export type PemProblem = 'missing-blocks' | 'unparsable-certificate';

export function parseCertificatePem(pem: string): PemCertificate | PemProblem {
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!key || !cert) return 'missing-blocks';
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return 'unparsable-certificate';
  }
  return {
    privateKeyPem: key,
    certificatePem: cert,
    thumbprintSha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    validTo: new Date(x509.validTo),
  };
}
