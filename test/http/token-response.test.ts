import { describe, expect, it } from 'vitest';
import { tokenResponseBody } from '../../src/vending/warm-path.js';
import { tokenResponse, type Vended } from '../../src/vending/issue.js';

describe('token endpoint answer body', () => {
  const vended = (accessToken: string, expiresIn = 3599): Vended => ({
    token: { accessToken, expiresOn: new Date(Date.now() + expiresIn * 1000) },
    expiresIn,
    scope: 'https://outlook.office365.com/.default',
  });

  it('is exactly JSON.stringify of the RFC 6749 §5.1 answer, for any token text', () => {
    for (const accessToken of [
      'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2ln',
      'quote " backslash \\ nl \n ü \u2028',
    ]) {
      const v = vended(accessToken);
      expect(tokenResponseBody(v)).toBe(JSON.stringify(tokenResponse(v)));
      expect(JSON.parse(tokenResponseBody(v))).toEqual({
        token_type: 'Bearer',
        access_token: accessToken,
        expires_in: 3599,
        scope: 'https://outlook.office365.com/.default',
      });
    }
  });

  it('escapes a token once and reuses it only for that very token object', () => {
    const a = vended('eyJ.a.b', 100);
    expect(tokenResponseBody(a)).toContain('"expires_in":100');
    expect(tokenResponseBody({ ...a, expiresIn: 99 })).toContain('"expires_in":99');
    // Another token object with other text is escaped on its own, never answered with the first one's text.
    expect(tokenResponseBody(vended('eyJ.c.d'))).toContain('"access_token":"eyJ.c.d"');
  });
});
