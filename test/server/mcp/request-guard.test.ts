import t from 'tap';
import { RequestGuard } from '../../../server/mcp/request-guard.js';

const loopback = new RequestGuard(['http://localhost', 'http://127.0.0.1', 'http://[::1]', 'https://localhost'], ['localhost', '127.0.0.1', '[::1]']);

t.test('loopback names on any port pass; no Origin passes', async (t) => {
  for (const host of ['localhost:8080', '127.0.0.1:1', '[::1]:8080', 'LOCALHOST:8080', 'localhost']) t.ok(loopback.check(host, undefined).ok, host);
  for (const origin of ['http://localhost:5173', 'http://127.0.0.1', 'https://localhost:8443', 'http://[::1]:3000']) t.ok(loopback.check('localhost:8080', origin).ok, origin);
});

t.test('forged or malformed Host and Origin values are refused', async (t) => {
  for (const host of [undefined, '', 'evil.example', 'localhost.evil.example:80', '127.0.0.1.nip.io', 'user@localhost', 'localhost/x', '0.0.0.0:8080']) {
    t.notOk(loopback.check(host, undefined).ok, `Host ${host}`);
  }
  for (const origin of ['http://evil.example', 'null', 'file://', 'https://127.0.0.1', 'http://localhost:80/path', 'http://localhost.evil.example', 'ws://localhost']) {
    t.notOk(loopback.check('localhost:8080', origin).ok, `Origin ${origin}`);
  }
});

t.test('entries with a port match that port only; * matches anything', async (t) => {
  const pinned = new RequestGuard(['https://app.example.com:8443'], ['mcp.example.com:443']);
  t.ok(pinned.check('mcp.example.com:443', 'https://app.example.com:8443').ok);
  t.notOk(pinned.check('mcp.example.com:444', undefined).ok);
  t.notOk(pinned.check('mcp.example.com:443', 'https://app.example.com').ok);
  const open = new RequestGuard(['*'], ['*']);
  t.ok(open.check('anything:1', 'http://anything').ok);
  t.throws(() => new RequestGuard(['not a url'], []), /^SLIPWAY_MCP_ALLOWED_ORIGINS holds "not a url", which is not scheme:\/\/host/);
});

t.test('a refusal names the setting that admits a host or an origin', async (t) => {
  const loopback = new RequestGuard(['http://localhost'], ['localhost']);
  t.match(loopback.check('mcp.example.com', undefined), { ok: false, reason: /^Host "mcp\.example\.com" is not allowed; the server's SLIPWAY_MCP_ALLOWED_HOSTS setting admits hosts$/ });
  t.match(loopback.check('localhost', 'https://app.example.com'), { ok: false, reason: /SLIPWAY_MCP_ALLOWED_ORIGINS setting admits origins$/ });
});
