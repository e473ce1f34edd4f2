import Fastify from 'fastify';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { HELMET_OPTIONS, installSecurityHeaders, securityHeaders } from './security-headers.js';

describe('securityHeaders', () => {
  it("are exactly the headers helmet's middleware sets on a response, with the gateway's CSP", async () => {
    const headers = securityHeaders(HELMET_OPTIONS);
    const app = Fastify();
    app.get('/', (request, reply) => {
      helmet(HELMET_OPTIONS)(request.raw, reply.raw, () => undefined);
      return reply.send('ok');
    });
    const viaHelmet = await app.inject({ method: 'GET', url: '/' });
    for (const [name, value] of Object.entries(headers)) expect(viaHelmet.headers[name], name).toBe(value);
    const helmetNames = Object.keys(viaHelmet.headers).filter(
      (h) => !['content-type', 'content-length', 'date', 'connection'].includes(h),
    );
    expect(Object.keys(headers).sort()).toEqual(helmetNames.sort());
    expect(headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    expect(headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(headers['x-powered-by']).toBeUndefined();
    await app.close();
  });

  it('installSecurityHeaders puts them on answers, 404s and errors', async () => {
    const app = Fastify();
    installSecurityHeaders(app, HELMET_OPTIONS);
    app.get('/ok', () => ({ ok: true }));
    app.get('/fails', () => {
      throw new Error('boom');
    });
    for (const url of ['/ok', '/missing', '/fails']) {
      const answer = await app.inject({ method: 'GET', url });
      expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
      expect(answer.headers['content-security-policy'], url).toMatch(/default-src 'self'/);
    }
    await app.close();
  });
});
