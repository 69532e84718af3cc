import t from 'tap';
import { addressRefusal, checkRepoUrl, hostAllowed, ipv6Bytes, parseRepoUrl, type Resolver } from '../../lib/git-url-policy.js';

const none = { allowedHosts: [] };

t.test('https to a public host is accepted, normalised', async (t) => {
  const parsed = parseRepoUrl('https://GitHub.com/owner/repo.git', none);
  t.equal(parsed.host, 'github.com');
  t.equal(parsed.port, 443);
  t.equal(parsed.allowedByConfig, false);
  t.equal(parseRepoUrl('https://git.example.org:8443/x', none).port, 8443);
});

t.test('other schemes, local paths and scp-style addresses are 400 naming repo_url', async (t) => {
  for (const url of [
    'file:///etc/passwd',
    'ssh://git@github.com/owner/repo.git',
    'git://github.com/owner/repo.git',
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'git@github.com:owner/repo.git',
    '/srv/git/repo.git',
    './repo',
    'ftp://example.com/repo.git',
    'javascript:alert(1)',
    'https://github.com/owner/repo.git\n',
    'https://github.com/a b',
    'https:\\\\github.com\\x',
    '',
  ]) {
    t.throws(() => parseRepoUrl(url, none), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url' }, JSON.stringify(url));
  }
});

t.test('credentials in the URL are refused: they come from the server only', async (t) => {
  t.throws(() => parseRepoUrl('https://user:secret@github.com/x.git', none), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url', message: /credentials/ });
  t.throws(() => parseRepoUrl('https://token@github.com/x.git', none), { code: 'SLIPWAY_ERR_INVALID_INPUT' });
});

t.test('plain http is 403 unless the host is allowed', async (t) => {
  t.throws(() => parseRepoUrl('http://github.com/owner/repo.git', none), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url', message: /plain http/ });
  const allowed = parseRepoUrl('http://git.internal:8080/r.git', { allowedHosts: ['git.internal:8080'] });
  t.equal(allowed.allowedByConfig, true);
});

t.test('loopback, private, link-local, metadata and other non-public literals are 403', async (t) => {
  for (const url of [
    'https://127.0.0.1/x',
    'https://127.1.2.3/x',
    'https://2130706433/x', // 127.0.0.1 as one number; URL parsing normalises it
    'https://0x7f.1/x',
    'https://[::1]/x',
    'https://169.254.169.254/x',
    'https://100.100.100.200/x',
    'https://10.1.2.3/x',
    'https://172.16.0.1/x',
    'https://172.31.255.255/x',
    'https://192.168.0.10/x',
    'https://100.64.0.1/x',
    'https://0.0.0.0/x',
    'https://[::]/x',
    'https://[fe80::1]/x',
    'https://[fd00::1]/x',
    'https://[fd00:ec2::254]/x',
    'https://[::ffff:127.0.0.1]/x',
    'https://[::ffff:a9fe:a9fe]/x',
    'https://224.0.0.1/x',
    'https://localhost/x',
    'https://LOCALHOST:8443/x',
    'https://api.localhost/x',
  ]) {
    t.throws(() => parseRepoUrl(url, none), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url' }, url);
  }
});

t.test('SLIPWAY_GIT_ALLOWED_HOSTS: host matches any port, host:port that port only', async (t) => {
  const policy = { allowedHosts: ['127.0.0.1:9418', 'git.lan', '[::1]:8080'] };
  t.equal(parseRepoUrl('http://127.0.0.1:9418/r.git', policy).allowedByConfig, true);
  t.throws(() => parseRepoUrl('http://127.0.0.1:9419/r.git', policy), { code: 'SLIPWAY_ERR_POLICY_DENIED' }, 'another port of an allowed host');
  t.throws(() => parseRepoUrl('https://127.0.0.1:9419/r.git', policy), { code: 'SLIPWAY_ERR_POLICY_DENIED' }, 'https does not lift the address rule');
  t.equal(parseRepoUrl('http://GIT.lan:1234/r.git', policy).allowedByConfig, true);
  t.equal(parseRepoUrl('http://[::1]:8080/r.git', policy).allowedByConfig, true);
  t.equal(hostAllowed({ host: 'git.lan', port: 80 }, policy.allowedHosts), true);
  t.equal(hostAllowed({ host: 'evil.git.lan', port: 80 }, policy.allowedHosts), false, 'no suffix matching');
});

t.test('addressRefusal: public unicast passes, embedded IPv4 is judged by the IPv4', async (t) => {
  for (const ok of ['8.8.8.8', '140.82.112.3', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700:4700::1111', '2a01:4f8::1', '64:ff9b::808:808']) {
    t.equal(addressRefusal(ok), null, ok);
  }
  t.match(addressRefusal('169.254.169.254'), /metadata/);
  t.match(addressRefusal('fd00:ec2::254'), /metadata/);
  t.match(addressRefusal('64:ff9b::7f00:1'), /loopback/, 'NAT64 of 127.0.0.1');
  t.match(addressRefusal('2002:a9fe:a9fe::1'), /metadata/, '6to4 of 169.254.169.254');
  t.match(addressRefusal('::127.0.0.1'), /loopback/, 'IPv4-compatible');
  t.match(addressRefusal('fe80::1%eth0'), /link-local/, 'zone ids are ignored');
  t.match(addressRefusal('not-an-ip'), /not an IP/);
});

t.test('ipv6Bytes parses compressed forms and dotted tails, refuses junk', async (t) => {
  t.same(ipv6Bytes('::1'), [...Array(15).fill(0), 1]);
  t.same(ipv6Bytes('::ffff:1.2.3.4')?.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  t.same(ipv6Bytes('2001:db8::')?.slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  t.equal(ipv6Bytes('1::2::3'), null);
  t.equal(ipv6Bytes('12345::'), null);
});

t.test('checkRepoUrl resolves the host: one refused address refuses it', async (t) => {
  const dns = (answers: Record<string, string[]>): Resolver => async (host) => {
    const found = answers[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const resolve = dns({ 'good.example': ['140.82.112.3'], 'mixed.example': ['140.82.112.3', '10.0.0.5'], 'meta.example': ['169.254.169.254'], 'v6.example': ['::1'] });
  t.equal((await checkRepoUrl('https://good.example/r.git', none, resolve)).host, 'good.example');
  await t.rejects(checkRepoUrl('https://mixed.example/r.git', none, resolve), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url', message: /10\.0\.0\.5/ });
  await t.rejects(checkRepoUrl('https://meta.example/r.git', none, resolve), { code: 'SLIPWAY_ERR_POLICY_DENIED', message: /metadata/ });
  await t.rejects(checkRepoUrl('https://v6.example/r.git', none, resolve), { code: 'SLIPWAY_ERR_POLICY_DENIED' });
  await t.rejects(checkRepoUrl('https://nowhere.example/r.git', none, resolve), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND', field: 'repo_url' });
  const flaky: Resolver = async () => {
    throw Object.assign(new Error('temporary failure'), { code: 'EAI_AGAIN' });
  };
  await t.rejects(checkRepoUrl('https://good.example/r.git', none, flaky), { code: 'SLIPWAY_ERR_GIT_REMOTE' });
  const allowed = await checkRepoUrl('http://meta.example/r.git', { allowedHosts: ['meta.example'] }, resolve);
  t.equal(allowed.allowedByConfig, true, 'an allowed host is not resolved or judged by address');
});
