import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** Where the built dashboard is by default: apps/web/dist (this file is apps/gateway/{src,dist}/web/). */
export const DEFAULT_WEB_DIST = resolve(import.meta.dirname, '..', '..', '..', 'web', 'dist');

/** Paths the dashboard never answers: they belong to the API (unknown ones get the API's JSON 404). */
const API_PATHS = /^\/(api|socket\.io|healthz|readyz|metrics)(\/|$)/;

/** Cache-Control of Vite's content-hashed files: their name changes whenever their content does. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Cache-Control of everything else (index.html above all): revalidate every time (ETag), so a deploy shows at once. */
export const REVALIDATE_CACHE = 'no-cache';

/** Options of {@link serveWebDashboard}. */
export interface WebDashboardOptions {
  /** The built dashboard (`npm run web:build`). Default `KNM_WEB_DIST`, else {@link DEFAULT_WEB_DIST}. */
  distDir?: string;
  /**
   * Serve source maps (`*.map`) when the build has them (`KNM_WEB_SOURCE_MAPS=true`).
   * Default false: a map holds the dashboard's full sources, which production has no
   * reason to hand out; a `.map` request is then a 404.
   */
  sourceMaps?: boolean;
  logger: Logger;
}

/** A source map's path. */
const SOURCE_MAP = /\.map$/i;

/**
 * Serves the dashboard (apps/web/dist) at `/` from the gateway:
 * - files under `/assets/` (hashed by Vite) with a one-year immutable Cache-Control;
 * - `index.html` and other files with `no-cache` (revalidated by ETag);
 * - any other path without a file extension (a client-side route) gets index.html;
 * - API paths (`/api`, `/socket.io`, `/healthz`, `/readyz`, `/metrics`) are never
 *   answered here: unknown ones reach the API's JSON 404;
 * - a missing file with an extension is a 404 (never index.html in place of a script);
 * - source maps are a 404 unless `sourceMaps` (opt-in) is set.
 * When the dashboard is not built, `/` answers 503 saying how to build it; the
 * check happens per request, so building later needs no restart.
 * Call before `app.listen`.
 */
export async function serveWebDashboard(
  app: NestFastifyApplication,
  options: WebDashboardOptions,
): Promise<void> {
  const root = resolve(options.distDir ?? process.env['KNM_WEB_DIST'] ?? DEFAULT_WEB_DIST);
  const sourceMaps = options.sourceMaps ?? process.env['KNM_WEB_SOURCE_MAPS'] === 'true';
  await app.register(fastifyStatic, { root, serve: false });
  const fastify = app.getHttpAdapter().getInstance();
  let warned = false;

  const isFile = async (path: string): Promise<boolean> => {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    let path: string;
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    } catch {
      return reply.code(400).type('text/plain').send('malformed URL');
    }
    if (API_PATHS.test(path)) return reply.callNotFound();
    if (!sourceMaps && SOURCE_MAP.test(path)) return reply.callNotFound();
    const file = resolve(root, `.${path}`);
    const inside = file === root || file.startsWith(root + sep);
    if (inside && file !== root && (await isFile(file))) {
      const relative = file.slice(root.length + 1);
      reply.header('cache-control', relative.startsWith(`assets${sep}`) ? IMMUTABLE_CACHE : REVALIDATE_CACHE);
      return reply.sendFile(relative, { cacheControl: false });
    }
    if (!inside || extname(path) !== '') return reply.callNotFound();
    if (!(await isFile(resolve(root, 'index.html')))) {
      if (!warned) {
        warned = true;
        options.logger.warn({ root }, 'the dashboard is not built: run npm run web:build');
      }
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(`The dashboard is not built. Run: npm run web:build (looked in ${root})\n`);
    }
    reply.header('cache-control', REVALIDATE_CACHE);
    return reply.sendFile('index.html', { cacheControl: false });
  };
  fastify.get('/', handler);
  fastify.get('/*', handler);
}
