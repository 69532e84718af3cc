// The dashboard's files as the gateway serves them: public (they hold no data), under
// a policy that runs only the gateway's own scripts and calls only the gateway.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { writeTokensFile } from '../fixtures/tokens.js';

const gw = await startGateway({ SLIPWAY_TOKENS_FILE: await writeTokensFile([{ name: 'ops', token: 'ui-files-token-0123456789', scopes: ['admin'] }]) });
t.teardown(() => gw.close());

t.test('/ and /ui lead to the dashboard', async (t) => {
  for (const path of ['/', '/ui']) {
    const res = await fetch(gw.url + path, { redirect: 'manual' });
    t.equal(res.status, 302, path);
    t.equal(res.headers.get('location'), '/ui/', path);
  }
});

t.test('the page and its scripts are served without a token, with tight security headers', async (t) => {
  for (const [path, type] of [
    ['/ui/', 'text/html'],
    ['/ui/app.js', 'application/javascript'],
    ['/ui/pages/run.js', 'application/javascript'],
    ['/ui/style.css', 'text/css'],
  ] as const) {
    const res = await fetch(gw.url + path);
    t.equal(res.status, 200, path);
    t.match(res.headers.get('content-type'), type, path);
    const csp = res.headers.get('content-security-policy') ?? '';
    t.match(csp, /default-src 'none'/, `${path}: nothing is allowed unless named`);
    t.match(csp, /script-src 'self'(;|$)/, `${path}: only the gateway's own scripts, none inline`);
    t.match(csp, /connect-src 'self'(;|$)/, `${path}: calls go to the gateway only`);
    t.match(csp, /frame-ancestors 'none'/, `${path}: not framed`);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    t.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
  }
});

t.test('the page has no inline script or style, which the policy would block', async (t) => {
  const html = await (await fetch(`${gw.url}/ui/`)).text();
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
  t.notMatch(html, /<style|style=/, 'every style is in style.css');
  t.notMatch(html, /https?:\/\//, 'nothing from another origin (works offline)');
});

t.test('a path outside the dashboard\'s folder is not served', async (t) => {
  const res = await fetch(`${gw.url}/ui/..%2Fpackage.json`);
  t.equal(res.status, 404);
  t.notMatch(await res.text(), /"name": "slipway"/);
});

t.test('the dashboard is not in the API documentation', async (t) => {
  const openapi = (await gw.request('GET', '/openapi.json')).body;
  t.notOk(Object.keys(openapi.paths).some((path) => path === '/' || path.startsWith('/ui')));
});
