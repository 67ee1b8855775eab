import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createTokenService } from '../../../src/api/auth/tokens.js';

const secret = randomBytes(32);
const user = { id: 7, username: 'alice', email: 'alice@example.test' };
const accounts = new Map([[user.id, user.username]]);
const tokens = createTokenService({ secret, issuer: 'mirror-chat', audience: 'mirror-chat', ttlSeconds: 3600, usernameOf: async (id) => accounts.get(id) ?? null });
const claims = { ...user, sessionId: 's-1' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

function signed(overrides: { alg?: string; iss?: string; aud?: string; iat?: number; exp?: number | null; key?: Uint8Array; account?: object } = {}) {
  let jwt = new SignJWT({ ...claims, ...overrides.account })
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256' })
    .setIssuer(overrides.iss ?? 'mirror-chat')
    .setAudience(overrides.aud ?? 'mirror-chat')
    .setIssuedAt(overrides.iat);
  if (overrides.exp !== null) jwt = jwt.setExpirationTime(overrides.exp ?? nowSeconds() + 600);
  return jwt.sign(overrides.key ?? secret);
}

const rejected = async (token: string) => expect(tokens.verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

describe('tokens', () => {
  it('carries the guide’s payload and verifies', async () => {
    const { token, expiresAt } = await tokens.issue(user);
    const verified = await tokens.verify(token);
    expect(verified).toMatchObject({ id: 7, username: 'alice', email: 'alice@example.test', sessionId: expect.any(String) });
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
  });

  it('accepts a well-formed token signed with the secret', async () => {
    expect((await tokens.verify(await signed())).id).toBe(7);
  });

  it('rejects alg none', () => rejected(new UnsecuredJWT(claims).setIssuer('mirror-chat').setAudience('mirror-chat').setIssuedAt().setExpirationTime('10m').encode()));
  it('rejects another HMAC algorithm than the pinned one', async () => rejected(await signed({ alg: 'HS512', key: randomBytes(64) })));
  it('rejects an expired token', async () => rejected(await signed({ exp: nowSeconds() - 10 })));
  it('rejects a token once it expires, though it was accepted before', async () => {
    const token = await signed({ exp: nowSeconds() + 60 });
    await expect(tokens.verify(token)).resolves.toMatchObject({ id: 7 });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      await rejected(token);
    } finally {
      vi.useRealTimers();
    }
  });
  it('rejects a token without exp', async () => rejected(await signed({ exp: null })));
  it('rejects a wrong issuer', async () => rejected(await signed({ iss: 'someone-else' })));
  it('rejects a wrong audience', async () => rejected(await signed({ aud: 'another-app' })));
  it('rejects a token signed with another secret', async () => rejected(await signed({ key: randomBytes(32) })));
  it('rejects a tampered payload', async () => {
    const [header, , signature] = (await signed()).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, id: 1, iss: 'mirror-chat', aud: 'mirror-chat', exp: nowSeconds() + 600 })).toString('base64url');
    await rejected(`${header}.${forged}.${signature}`);
  });
  it('rejects garbage', () => rejected('not.a.token'));
  it('rejects a token of an account there is none of, or under another name than its own', async () => {
    await rejected(await signed({ account: { id: 8 } }));
    await rejected(await signed({ account: { username: 'mallory' } }));
  });
  it('rejects a token issued later than a minute from now, and takes one issued within it', async () => {
    await rejected(await signed({ iat: nowSeconds() + 3600 }));
    await expect(tokens.verify(await signed({ iat: nowSeconds() + 30 }))).resolves.toMatchObject({ id: 7 });
  });
});
