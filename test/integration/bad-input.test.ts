// Bad input gets a 4xx naming the field, creates nothing on the engine, and the
// gateway goes on serving (SECURITY.md's "forbidden host resources" rows among them).
import t from 'tap';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { createdSince } from '../fixtures/engine-view.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';

const INSTANCE = `${TEST_INSTANCE}-bad-input`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE, SLIPWAY_BODY_LIMIT_BYTES: String(64 * 1024) });
t.teardown(() => gw.close());
const since = Date.now();

const ok = { image: BUSYBOX_IMAGE, command: ['true'] };
const cases: [string, string, unknown, number, string][] = [
  ['privileged mode', '/v1/containers/run', { ...ok, privileged: true }, 400, 'privileged'],
  ['host networking', '/v1/containers/run', { ...ok, network_mode: 'host' }, 400, 'network_mode'],
  ['another container\'s network', '/v1/containers/run', { ...ok, network_mode: 'container:abc' }, 400, 'network_mode'],
  ['a bind of the Docker socket', '/v1/containers/run', { ...ok, binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, 400, 'binds'],
  ['a HostConfig passed through', '/v1/containers/run', { ...ok, HostConfig: { Binds: ['/etc:/host-etc'] } }, 400, 'HostConfig'],
  ['devices', '/v1/containers/run', { ...ok, devices: ['/dev/sda'] }, 400, 'devices'],
  ['an image name with ;', '/v1/containers/run', { ...ok, image: 'busybox;rm -rf /' }, 400, 'image'],
  ['a missing image', '/v1/containers/run', { command: ['true'] }, 400, 'image'],
  ['a relative working_dir', '/v1/containers/run', { ...ok, working_dir: 'tmp' }, 400, 'working_dir'],
  ['a bad environment name', '/v1/containers/run', { ...ok, environment: { 'A=B': 'x' } }, 400, 'environment'],
  ['a non-string environment value', '/v1/containers/run', { ...ok, environment: { A: 1 } }, 400, 'environment.A'],
  ['a bad memory limit', '/v1/containers/run', { ...ok, memory_limit: 'lots' }, 400, 'memory_limit'],
  ['too little memory', '/v1/containers/run', { ...ok, memory_limit: '1m' }, 400, 'memory_limit'],
  ['a negative timeout', '/v1/containers/run', { ...ok, timeout: -1 }, 400, 'timeout'],
  ['a user with a shell', '/v1/containers/run', { ...ok, user: 'root;id' }, 400, 'user'],
  ['memory over the cap', '/v1/containers/run', { ...ok, memory_limit: '64g' }, 403, 'memory_limit'],
  ['CPUs over the cap', '/v1/containers/run', { ...ok, cpu_limit: 16 }, 403, 'cpu_limit'],
  ['pids over the cap', '/v1/containers/run', { ...ok, pids_limit: 100000 }, 400, 'pids_limit'],
  ['pids over the policy cap', '/v1/containers/run', { ...ok, pids_limit: 1000 }, 403, 'pids_limit'],
  ['a timeout over the cap', '/v1/containers/run', { ...ok, timeout: 7200 }, 403, 'timeout'],
  ['bridge networking not allowed here', '/v1/containers/run', { ...ok, network_mode: 'bridge' }, 403, 'network_mode'],
  ['a writable root not allowed here', '/v1/containers/run', { ...ok, read_only: false }, 403, 'read_only'],
  ['a payload user', '/v1/payloads/run', { language: 'sh', payload: 'id', user: '0' }, 400, 'user'],
  ['a payload escaping its directory', '/v1/payloads/run', { language: 'sh', payload: 'x', payload_path: '../../etc/cron.d/x' }, 400, 'payload_path'],
  ['a bad base64 encoding name', '/v1/payloads/run', { language: 'sh', files: [{ path: 'a', content: 'x', encoding: 'hex' }] }, 400, 'files[0].encoding'],
  ['a container id with a slash', '/v1/containers/..%2F..%2Fetc/stop', {}, 400, 'container_id'],
  ['an image to pull with spaces', '/v1/images/pull', { image: 'busybox --all-tags' }, 400, 'image'],
  ['an array instead of an object', '/v1/containers/run', [ok], 400, 'body'],
];

for (const [name, path, body, status, field] of cases) {
  t.test(name, async (t) => {
    const res = await gw.request('POST', path, body);
    t.equal(res.status, status);
    t.match(res.body, { error: { code: status === 400 ? 'SLIPWAY_ERR_INVALID_INPUT' : 'SLIPWAY_ERR_POLICY_DENIED', field } });
    t.notMatch(JSON.stringify(res.body), /at .*\.(ts|js):\d+/, 'no stack trace');
  });
}

t.test('malformed JSON is a 400', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', '{"image": ');
  t.equal(res.status, 400);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'body' });
});

t.test('a body over the limit is a 413 before parsing', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'x'.repeat(128 * 1024) });
  t.equal(res.status, 413);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE' });
});

t.test('an unknown route is a JSON 404', async (t) => {
  const res = await gw.request('GET', '/v1/nothing-here');
  t.equal(res.status, 404);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_ROUTE_NOT_FOUND' });
});

t.test('enum and format errors say what is valid, on both doors', async (t) => {
  const expected: [string, string, Record<string, unknown>, string, RegExp][] = [
    ['/v1/payloads/run', 'execute_with_payload', { language: 'pyhton', payload: 'print(1)' }, 'language', /^language must be one of python, node, .*sh.* \(got "pyhton"\)$/],
    ['/v1/containers/run', 'execute_docker_container', { ...ok, network_mode: 'host' }, 'network_mode', /^network_mode must be one of none, bridge \(got "host"\)$/],
    ['/v1/containers/run', 'execute_docker_container', { ...ok, memory_limit: 'lots' }, 'memory_limit', /^memory_limit must look like 512m or 1g/],
    ['/v1/containers/run', 'execute_docker_container', { ...ok, image: 'Busybox:1.36' }, 'image', /^image is not an image reference: the repository "Busybox" must be lower-case$/],
    ['/v1/images/pull', 'pull_docker_image', { image: 'busybox:1.36!' }, 'image', /^image is not an image reference: the tag "1\.36!"/],
  ];
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  for (const [path, tool, body, field, message] of expected) {
    const rest = await gw.request('POST', path, body);
    t.match(rest, { status: 400, body: { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field, message } } }, `REST ${path} ${field}`);
    // A protocol error or an isError result, depending on the door's version: either carries the message.
    const viaMcp = await mcp.client.callTool({ name: tool, arguments: body }).catch((err: Error) => err);
    const text = viaMcp instanceof Error ? viaMcp.message : (viaMcp as { content: { text: string }[] }).content[0]!.text;
    t.match(text, new RegExp(message.source.replace(/^\^/, '')), `MCP ${tool} ${field}`);
  }
});

t.test('a request refused as bad input leaves no run record, on either door', async (t) => {
  const scp = await gw.request('POST', '/v1/repos/run', { repo_url: 'git@github.com:a/b.git' });
  t.match(scp, { status: 400, body: { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url', message: /scp-style/ } } });
  const badRef = await gw.request('POST', '/v1/repos/run', { repo_url: 'https://github.com/a/b.git', ref: '../x', wait: false });
  t.match(badRef, { status: 400, body: { error: { field: 'ref' } } });
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  // A tool input error is a protocol error or an isError result, depending on the door's version: either names the field.
  const viaMcp = await mcp.client.callTool({ name: 'build_and_execute_github_repo', arguments: { repo_url: 'git@github.com:a/b.git' } }).catch((err: Error) => err);
  t.match(JSON.stringify(viaMcp instanceof Error ? viaMcp.message : viaMcp), /scp-style/);
  const runs = await gw.request('GET', '/v1/runs');
  t.same(runs.body.runs, [], 'no run was recorded for this or any refused request above');
});

t.test('nothing was created on the engine, and the gateway still serves', async (t) => {
  t.same(await createdSince(INSTANCE, since), [], 'no container created by any bad request');
  const res = await gw.request('POST', '/v1/containers/run', { ...ok, command: ['echo', 'still serving'] });
  t.match(res.body, { success: true, stdout: 'still serving\n' });
});
