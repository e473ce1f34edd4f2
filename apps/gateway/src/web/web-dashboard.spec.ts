import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE, REVALIDATE_CACHE, serveWebDashboard } from './web-dashboard.js';

/** An empty Nest module (decorator applied by hand: specs run without decorator transforms). */
class TestModule {}
Module({})(TestModule);

let app: NestFastifyApplication | undefined;
let dir: string | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function start(build: boolean, sourceMaps?: boolean): Promise<NestFastifyApplication> {
  dir = await mkdtemp(join(tmpdir(), 'knm-web-dist-'));
  if (build) {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>knm</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'assets', 'index-abc123.js.map'), '{"version":3,"sourcesContent":["secret"]}');
    await writeFile(join(dir, 'favicon.svg'), '<svg/>');
  }
  app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), { logger: false });
  await serveWebDashboard(app, {
    distDir: dir,
    logger: pino({ level: 'silent' }),
    ...(sourceMaps !== undefined ? { sourceMaps } : {}),
  });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/api/v1/ping', async () => ({ ok: true }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('serveWebDashboard', () => {
  it('serves index.html at / and for client-side routes, never cached without revalidation', async () => {
    const a = await start(true);
    for (const url of ['/', '/nodes/node-1', '/clusters/dev?x=1']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe(REVALIDATE_CACHE);
      expect(res.body).toContain('<title>knm</title>');
    }
    const etag = (await a.inject({ method: 'GET', url: '/' })).headers['etag'];
    expect(etag).toBeTruthy();
    const again = await a.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('serves hashed assets with a one-year immutable cache, other files revalidated', async () => {
    const a = await start(true);
    const js = await a.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe(IMMUTABLE_CACHE);
    const svg = await a.inject({ method: 'GET', url: '/favicon.svg' });
    expect(svg.headers['cache-control']).toBe(REVALIDATE_CACHE);
  });

  it('leaves API paths to the API and answers 404 for missing files (never index.html for a script)', async () => {
    const a = await start(true);
    expect((await a.inject({ method: 'GET', url: '/api/v1/ping' })).json()).toEqual({ ok: true });
    const unknownApi = await a.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(unknownApi.statusCode).toBe(404);
    expect(unknownApi.headers['content-type']).toMatch(/json/);
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/assets/index-old.js' })).statusCode).toBe(404);
    const traversal = await a.inject({ method: 'GET', url: '/..%2f..%2fetc%2fpasswd' });
    expect(traversal.statusCode).toBe(404);
  });

  it('serves no source map unless opted in (KNM_WEB_SOURCE_MAPS): a map holds the full sources', async () => {
    const closed = await start(true);
    const refused = await closed.inject({ method: 'GET', url: '/assets/index-abc123.js.map' });
    expect(refused.statusCode).toBe(404);
    expect(refused.body).not.toContain('secret');
    await closed.close();
    app = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    const open = await start(true, true);
    const served = await open.inject({ method: 'GET', url: '/assets/index-abc123.js.map' });
    expect(served.statusCode).toBe(200);
    expect(served.body).toContain('sourcesContent');
  });

  it('answers 503 with how to build when the dashboard is not built', async () => {
    const a = await start(false);
    const res = await a.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run web:build');
  });
});
