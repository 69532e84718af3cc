// Cloning against the local smart-HTTP git server (TESTING.md): refs of every kind,
// the URL policy at check time and at connect time, redirects, limits, credentials,
// and the temporary directory gone after every call, whatever happened.
import t from 'tap';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRemoteCommit, withClone, type CloneOptions, type CloneSettings } from '../../lib/git-clone.js';
import { addressRefusal } from '../../lib/git-url-policy.js';
import { PRIVATE_USER, startRepoFixture } from '../fixtures/repo-builds.js';

const fx = await startRepoFixture();
t.teardown(() => fx.close());
const { c1, c2, c3, c4, feature } = fx.repos.commits;

/** Clones and reads version.txt (which says which commit it is) and the working tree's top level. */
async function clone(repoUrl: string, ref?: string, git: Partial<CloneSettings> = {}, options: CloneOptions = {}) {
  const lines: string[] = [];
  const result = await withClone(fx.settings({ git }).git, { repoUrl, ref }, { onLine: (l) => lines.push(l), ...options }, async (c) => ({
    ...c,
    version: await readFile(join(c.dir, 'version.txt'), 'utf8').catch(() => null),
  }));
  return { ...result, lines };
}

/** A subtest that ends by checking the clone directory is gone, whatever the test did. */
function test(name: string, fn: (t: Tap) => Promise<void>, options: { skip?: string | false } = {}): void {
  t.test(name, options, async (t) => {
    await fn(t);
    t.same(await fx.clonesLeft(), [], 'no clone directory is left');
  });
}
/** A subtest's `t` (the last overload of t.test takes only the callback). */
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

test('no ref: the default branch, which is trunk here, not main', async (t) => {
  const r = await clone(fx.url('app.git'));
  t.equal(r.commitSha, c4);
  t.equal(r.resolvedRef, 'refs/heads/trunk');
  t.equal(r.version, 'c4');
  t.match(r.lines.join('\n'), /Checked out [0-9a-f]{40} \(refs\/heads\/trunk\)/);
});

test('a branch, an annotated tag, a lightweight tag', async (t) => {
  t.match(await clone(fx.url('app.git'), 'feature'), { commitSha: feature, resolvedRef: 'refs/heads/feature', version: 'feature' });
  t.match(await clone(fx.url('app.git'), 'v1.0'), { commitSha: c1, resolvedRef: 'refs/tags/v1.0', version: 'c1' }, 'the tag object is peeled to its commit');
  t.match(await clone(fx.url('app.git'), 'light'), { commitSha: c3, version: 'c3' });
});

test('a commit: full or abbreviated, pointed at by a ref or not', async (t) => {
  t.match(await clone(fx.url('app.git'), c2), { commitSha: c2, resolvedRef: c2, version: 'c2' }, 'a full SHA no ref points at');
  t.match(await clone(fx.url('app.git'), c3.slice(0, 8)), { commitSha: c3, resolvedRef: 'refs/tags/light' }, 'abbreviated, found among the refs');
  const short = await clone(fx.url('app.git'), c2.slice(0, 9));
  t.match(short, { commitSha: c2, version: 'c2' }, 'abbreviated, found in the history of the default branch');
  t.match(short.lines.join('\n'), /fetching the history of refs\/heads\/trunk/);
});

test('a server that refuses a SHA it does not advertise: the default branch history is searched', async (t) => {
  const r = await clone(fx.url('strict.git'), c2);
  t.match(r, { commitSha: c2, version: 'c2' });
  t.match(r.lines.join('\n'), new RegExp(`did not give ${c2} directly`));
  t.ok(fx.server.requests.some((l) => l.startsWith('POST /strict.git/git-upload-pack')));
});

test('unknown repository or ref: 404 naming it', async (t) => {
  await t.rejects(clone(fx.url('missing.git')), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND', statusCode: 404, field: 'repo_url' });
  await t.rejects(clone(fx.url('app.git'), 'no-such-branch'), { code: 'SLIPWAY_ERR_REF_NOT_FOUND', statusCode: 404, field: 'ref' });
  await t.rejects(clone(fx.url('app.git'), 'f'.repeat(40)), { code: 'SLIPWAY_ERR_REF_NOT_FOUND', field: 'ref' });
  await t.rejects(clone(fx.url('app.git'), 'a..b'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'ref' });
  await t.rejects(clone(`${fx.server.url}/redirect/nowhere/x.git`), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND' });
});

test('refused URLs never reach a server', async (t) => {
  const before = fx.server.requests.length;
  const refusals: [string, string][] = [
    ['file:///etc', 'SLIPWAY_ERR_INVALID_INPUT'],
    [`file://${fx.repos.root}/app.git`, 'SLIPWAY_ERR_INVALID_INPUT'],
    ['ssh://git@127.0.0.1/app.git', 'SLIPWAY_ERR_INVALID_INPUT'],
    ['ext::sh -c touch% /tmp/slipway-pwned', 'SLIPWAY_ERR_INVALID_INPUT'],
    [`${fx.repos.root}/app.git`, 'SLIPWAY_ERR_INVALID_INPUT'],
    [`http://127.0.0.1:${fx.server.port + 1}/app.git`, 'SLIPWAY_ERR_POLICY_DENIED'], // a loopback port not allowed
    ['https://169.254.169.254/x', 'SLIPWAY_ERR_POLICY_DENIED'],
    [`https://localhost:${fx.server.port}/app.git`, 'SLIPWAY_ERR_POLICY_DENIED'],
    ['https://10.0.0.1/app.git', 'SLIPWAY_ERR_POLICY_DENIED'],
  ];
  for (const [url, code] of refusals) {
    await t.rejects(clone(url), { code, field: 'repo_url' }, url);
  }
  t.equal(fx.server.requests.length, before, 'the git server saw none of them');
});

test('the allow-list opens one host:port, over http or https alike', async (t) => {
  // https to the allowed host:port passes the policy; the fixture speaks plain http, so TLS fails: a 502, not a 403.
  await t.rejects(clone(`https://${fx.server.hostPort}/app.git`), { code: 'SLIPWAY_ERR_GIT_REMOTE', statusCode: 502, field: 'repo_url' });
});

test('redirects are checked by the same rules, hop by hop', async (t) => {
  fx.redirects.metadata = 'https://169.254.169.254/';
  fx.redirects.otherport = `http://127.0.0.1:${fx.server.port + 1}/`;
  fx.redirects.self = `${fx.server.url}/`;
  await t.rejects(clone(`${fx.server.url}/redirect/metadata/app.git`), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url', message: /redirect target.*metadata/ });
  await t.rejects(clone(`${fx.server.url}/redirect/otherport/app.git`), { code: 'SLIPWAY_ERR_POLICY_DENIED', message: /redirect target uses plain http/ });
  const requests = fx.server.requests.length;
  const followed = await clone(`${fx.server.url}/redirect/self/app.git`);
  t.equal(followed.commitSha, c4, 'an allowed redirect is followed');
  const seen = fx.server.requests.slice(requests);
  t.ok(seen.some((l) => l === 'POST /app.git/git-upload-pack'), 'the POST goes where info/refs was redirected, as git does');
  t.notOk(seen.some((l) => l.startsWith('POST /redirect/')));
});

// The machine's own name resolves to 127.0.x.1 on Debian-family systems (/etc/hosts).
const name = hostname();
const nameIsLocal = (await lookup(name, { all: true }).catch(() => [])).some((a) => addressRefusal(a.address) !== null);

test('a name that resolves to loopback at connect time is refused there (DNS rebinding)', async (t) => {
  // The pre-check is told the name is public; the socket's own lookup then sees 127.0.0.1.
  const rebinding = async () => [{ address: '140.82.112.3', family: 4 }];
  await t.rejects(clone(`https://${name}:${fx.server.port}/app.git`, undefined, {}, { resolve: rebinding }), {
    code: 'SLIPWAY_ERR_POLICY_DENIED',
    field: 'repo_url',
    message: new RegExp(`host ${name} resolved to`),
  });
}, { skip: nameIsLocal ? false : `${name} does not resolve to a non-public address here` });

test('limits: bytes received, bytes on disk, time', async (t) => {
  await t.rejects(clone(fx.url('big.git')), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', statusCode: 413, field: 'repo_url', message: /transfer/ }, 'a 3 MiB repository against a 1 MiB limit');
  t.match(await clone(fx.url('big.git'), undefined, { cloneMaxBytes: 8 * 1024 * 1024 }), { version: null }, 'under a larger limit it clones');
  await t.rejects(clone(fx.url('app.git'), undefined, { cloneDiskMaxBytes: 2048 }), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', message: /SLIPWAY_GIT_CLONE_DISK_MAX_BYTES/ });
  await t.rejects(clone(`${fx.server.url}/stall/app.git`, undefined, { cloneTimeoutSeconds: 1 }), { code: 'SLIPWAY_ERR_GIT_TIMEOUT', statusCode: 504, field: 'repo_url' });
});

test('a caller abort ends the clone with its reason, and cleans up', async (t) => {
  const controller = new AbortController();
  const reason = new Error('caller went away');
  setTimeout(() => controller.abort(reason), 300);
  await t.rejects(clone(`${fx.server.url}/stall/app.git`, undefined, {}, { signal: controller.signal }), reason);
  const aborted = new AbortController();
  aborted.abort(reason);
  await t.rejects(clone(fx.url('app.git'), undefined, {}, { signal: aborted.signal }), reason, 'already aborted: nothing starts');
});

test('the work function failing still removes the clone', async (t) => {
  await t.rejects(
    withClone(fx.settings().git, { repoUrl: fx.url('app.git') }, {}, async () => {
      t.equal((await fx.clonesLeft()).length, 1, 'the clone exists while the function runs');
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
});

test('credentials come from the settings, matched by host:port', async (t) => {
  const url = `${fx.server.url}/private/app.git`;
  await t.rejects(clone(url), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND', field: 'repo_url' }, 'without them, the repository does not exist for us');
  await t.rejects(clone(url, undefined, { credentials: { [fx.server.hostPort]: { username: PRIVATE_USER.username, password: 'wrong' } } }), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND' });
  await t.rejects(clone(url, undefined, { credentials: { 'other.host': PRIVATE_USER } }), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND' }, 'another host\'s credentials are not offered');
  t.match(await clone(url, undefined, { credentials: { [fx.server.hostPort]: PRIVATE_USER } }), { commitSha: c4 });
  t.match(await clone(url, 'v1.0', { credentials: { '127.0.0.1': { username: PRIVATE_USER.username, token: PRIVATE_USER.password } } }), { commitSha: c1 }, 'by host, a token as the password');
});

test('resolveRemoteCommit names the commit without cloning', async (t) => {
  const settings = fx.settings().git;
  const ask = (ref?: string) => resolveRemoteCommit(settings, { repoUrl: fx.url('app.git'), ref }, {}).then((r) => r.commitSha);
  t.equal(await ask(), c4);
  t.equal(await ask('v1.0'), c1, 'an annotated tag, peeled');
  t.equal(await ask('feature'), feature);
  t.equal(await ask(c2), c2, 'a full SHA as given');
  t.equal(await ask(c2.slice(0, 8)), null, 'only a clone can tell');
});
