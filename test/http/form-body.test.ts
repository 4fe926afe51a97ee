/**
 * The form parser of the token endpoint (src/http/form-body.ts): its fast split gives exactly what
 * URLSearchParams gives, on typical bodies and on random ones built from the characters that matter.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { pairs, readForm } from '../../src/http/form-body.js';
import type { HttpRequestLike } from '../../src/http/types.js';

function request(body: string, type = 'application/x-www-form-urlencoded'): HttpRequestLike {
  return {
    method: 'POST',
    url: 'http://localhost/oauth2/token',
    headers: { get: (name) => (name.toLowerCase() === 'content-type' ? type : null) },
    params: {},
    text: () => Promise.resolve(body),
  };
}

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  '=',
  '&',
  '+',
  '%',
  '%2',
  '%41',
  '%2B',
  '%26',
  '%3D',
  '%C3%A9',
  '%C3',
  '%E2%82%AC',
  '%ED%A0%80',
  '%zz',
  '%%',
  'é',
  '€',
  ' ',
  '.',
  '/',
  ':',
  '-',
];

describe('form body parsing', () => {
  it('gives what URLSearchParams gives for the bodies PBXs send', () => {
    for (const body of [
      'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
      'grant_type=client_credentials&scope=https://outlook.office365.com/.default',
      'client_id=abc&client_secret=s3cr%2Bt%3D&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default',
      'scope=a+b&scope=c',
      '&&grant_type=&=x&flag&',
      '',
    ])
      expect(pairs(body)).toEqual([...new URLSearchParams(body)]);
  });

  it('gives what URLSearchParams gives for 20,000 random bodies, invalid percent-encoding included', () => {
    const next = random(20261125);
    for (let n = 0; n < 20_000; n++) {
      let body = '';
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) body += PIECES[Math.floor(next() * PIECES.length)];
      expect(pairs(body), body).toEqual([...new URLSearchParams(body)]);
    }
  });

  it('refuses a parameter given twice, drops empty values, and checks the content type', async () => {
    await expect(readForm(request('scope=a&scope=b'))).rejects.toThrow(/scope is given more than once/);
    expect(await readForm(request('grant_type=client_credentials&scope='))).toEqual(
      new Map([['grant_type', 'client_credentials']]),
    );
    await expect(readForm(request('a=b', 'application/json'))).rejects.toThrow(/x-www-form-urlencoded/);
  });
});
