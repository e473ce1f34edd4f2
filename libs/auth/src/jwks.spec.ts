import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError } from './auth-errors.js';
import { signToken } from './sign-token.js';
import { TokenVerifier } from './token-verifier.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serveJwks(jwks: unknown): Promise<string> {
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${address.port}/jwks.json`;
}

describe('TokenVerifier with a JWKS URL', () => {
  it('accepts an RS256 token of the identity provider and refuses one signed by another key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const url = await serveJwks({ keys: [jwk] });
    const verifier = new TokenVerifier({
      jwksUrl: url,
      secret: 'a-test-secret-that-is-long-enough-0123456789',
    });
    const sign = (key: Parameters<SignJWT['sign']>[0]) =>
      new SignJWT({ role: 'operator', clusters: ['dev'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('idp-user')
        .setExpirationTime('10m')
        .sign(key);
    expect(await verifier.verify(await sign(privateKey))).toMatchObject({
      sub: 'idp-user',
      role: 'operator',
    });
    await expect(verifier.verify(await sign(other.privateKey))).rejects.toBeInstanceOf(AuthenticationError);
    // HS256 still goes to the secret, never to the JWKS.
    const hs = await signToken(
      { sub: 'local', role: 'viewer', clusters: '*' },
      { secret: 'a-test-secret-that-is-long-enough-0123456789' },
    );
    expect((await verifier.verify(hs)).sub).toBe('local');
  });

  it('refuses RS256 tokens when no JWKS is configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ role: 'admin', clusters: '*' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('x')
      .setExpirationTime('10m')
      .sign(privateKey);
    const verifier = new TokenVerifier({ secret: 'a-test-secret-that-is-long-enough-0123456789' });
    await expect(verifier.verify(token)).rejects.toThrow(/algorithm "RS256" is not accepted/);
  });
});
