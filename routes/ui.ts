/**
 * The dashboard: static files from ui/ at /ui, served by @fastify/static. The pages
 * call the same REST API as any client, with the token the person typed; the files
 * themselves are public and hold nothing secret. `/` leads there.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

/** ui/ beside the sources (routes/ui.ts under tsx) or beside the build (dist/routes/ui.js). */
function uiRoot(): string {
  const candidates = ['../ui/', '../../ui/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((dir) => existsSync(`${dir}index.html`));
  if (!found) throw new Error(`the dashboard's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Only the gateway's own files run, and only the gateway is called: no inline script
 * or style (an injected run name or log line cannot become code), no other origin, no
 * framing (clickjacking a cancel button).
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const uiFiles: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    // The page's URL holds a run id at most; nothing about it goes to another site.
    reply.header('referrer-policy', 'no-referrer');
    // Always asked again (a 304 when unchanged): a gateway upgrade never runs stale scripts.
    reply.header('cache-control', 'no-cache');
  });
  await app.register(fastifyStatic, {
    root: uiRoot(),
    prefix: '/ui/',
    // @fastify/swagger-ui registers its own copy for /docs: no reply decorators twice.
    decorateReply: false,
    // Cache-Control is the hook's: the files are always asked again.
    cacheControl: false,
  });
};

const uiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(uiFiles);
  // The page's relative links (app.js, pages/) resolve under /ui/, so both lead there.
  for (const url of ['/', '/ui']) app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
};

export default uiRoutes;
