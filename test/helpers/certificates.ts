/** Self-signed certificates for tests of certificate credentials. @module */
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TestCertificate {
  readonly certificatePem: string;
  /** PKCS#8 ("BEGIN PRIVATE KEY"). */
  readonly privateKeyPem: string;
  readonly thumbprintSha256Hex: string;
}

/** A self-signed RSA certificate and its PKCS#8 key, as an ISV would upload to its app registration. */
export async function selfSignedCertificate(subject = 'CN=Test credential'): Promise<TestCertificate> {
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    certificatePem: cert.toString('pem'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`,
    thumbprintSha256Hex: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
  };
}
