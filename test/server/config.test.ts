import t from 'tap';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, parseDockerHost } from '../../server/config.js';

const MIB = 1024 * 1024;

t.test('defaults: loopback, the local socket, hardened limits, no network', async (t) => {
  const c = loadConfig({});
  t.equal(c.host, '127.0.0.1');
  t.equal(c.port, 8080);
  t.equal(c.logLevel, 'info');
  t.strictSame(c.docker, { socketPath: '/var/run/docker.sock' });
  t.equal(c.provisionEngine, true);
  t.equal(c.dataDir, resolve('data'));
  t.equal(c.instance, 'default');
  t.equal(c.bodyLimitBytes, 10 * MIB);
  t.equal(c.outputCapBytes, MIB);
  t.equal(c.outputLimitBytes, 64 * MIB);
  t.equal(c.stopGraceSeconds, 3);
  t.strictSame(c.defaults, { memoryBytes: 512 * MIB, cpus: 1, pidsLimit: 256, timeoutSeconds: 60 });
  t.strictSame(c.caps, { memoryBytes: 2048 * MIB, cpus: 2, pidsLimit: 256, timeoutSeconds: 3600 });
  t.strictSame(c.networkModes, ['none']);
  t.equal(c.allowWritableRootfs, false);
  t.equal(c.manageAllContainers, false);
  t.equal(c.payloadUser, '65534:65534');
  t.notOk('runtime' in c);
  t.strictSame(c.languagePresets, {});
  t.strictSame(c.registryAuth, {});
  t.strictSame(c.registryAllowedHosts, [], 'no internal registry is allowed by default');
  t.strictSame(c.runs, {
    maxConcurrent: 4,
    maxQueued: 32,
    retryAfterSeconds: 5,
    logMaxBytes: 16 * MIB,
    retentionSeconds: 604800,
    sweepIntervalSeconds: 300,
    sseHeartbeatSeconds: 15,
    sseStallSeconds: 30,
    maxRunningPerCaller: 3,
    maxQueuedPerCaller: 8,
    storagePerCallerBytes: 256 * MIB,
    recordsPerCaller: 1000,
  });
  t.match(c.mcp, { maxSessionsPerCaller: 16, sessionMaxSeconds: 86400 });
  t.equal(c.auth.failuresPerMinute, 30);
  t.strictSame(c.mcp.allowedHosts, ['localhost', '127.0.0.1', '[::1]']);
  t.strictSame(c.mcp.allowedOrigins, ['http://localhost', 'https://localhost', 'http://127.0.0.1', 'https://127.0.0.1', 'http://[::1]', 'https://[::1]']);
  t.strictSame(c.repoBuild.git.allowedHosts, []);
  t.equal(c.repoBuild.build.network, false);
  t.match(c.repoBuild.git, { cloneObjectMaxBytes: 100 * MIB, cloneMaxFiles: 50_000, cloneMaxOpenFiles: 16 });
  t.match(c.repoBuild.build, { pidsLimit: 256, maxLayerBytes: 1024 * MIB, cacheMaxBytes: 4096 * MIB, imageRetentionSeconds: 86400 }, 'every build step and each caller\'s build cache are bounded by default');
  t.ok(Object.isFrozen(c));
});

t.test('only the given environment is read, never process.env', async (t) => {
  const saved = process.env.PORT;
  process.env.PORT = '1234';
  t.teardown(() => (saved === undefined ? delete process.env.PORT : (process.env.PORT = saved)));
  t.equal(loadConfig({}).port, 8080);
});

t.test('values from the environment', async (t) => {
  const c = loadConfig({
    HOST: '0.0.0.0',
    SLIPWAY_ALLOW_UNAUTHENTICATED: 'true',
    PORT: '9090',
    SLIPWAY_INSTANCE: 'blue',
    SLIPWAY_MEMORY_MAX_BYTES: String(4096 * MIB),
    SLIPWAY_MEMORY_DEFAULT_BYTES: String(1024 * MIB),
    SLIPWAY_CPU_MAX: '3.5',
    SLIPWAY_CPU_DEFAULT: '0.25',
    SLIPWAY_NETWORK_MODES: ' none , bridge ,',
    SLIPWAY_ALLOW_WRITABLE_ROOTFS: 'YES',
    SLIPWAY_PROVISION_ENGINE: 'off',
    SLIPWAY_RUNTIME: 'runsc',
    SLIPWAY_REGISTRY_AUTH: '{"ghcr.io":{"username":"u","password":"p"}}',
    SLIPWAY_REGISTRY_ALLOWED_HOSTS: 'registry.internal, 10.0.0.5:5000',
    SLIPWAY_MAX_QUEUED_RUNS: '0',
    SLIPWAY_DATA_DIR: '/var/lib/slipway',
  });
  t.equal(c.host, '0.0.0.0');
  t.equal(c.port, 9090);
  t.equal(c.instance, 'blue');
  t.strictSame(c.caps.memoryBytes, 4096 * MIB);
  t.strictSame(c.defaults.memoryBytes, 1024 * MIB);
  t.equal(c.caps.cpus, 3.5);
  t.equal(c.defaults.cpus, 0.25);
  t.strictSame(c.networkModes, ['none', 'bridge']);
  t.equal(c.allowWritableRootfs, true);
  t.equal(c.provisionEngine, false);
  t.equal(c.runtime, 'runsc');
  t.strictSame(c.registryAuth, { 'ghcr.io': { username: 'u', password: 'p' } });
  t.strictSame(c.registryAllowedHosts, ['registry.internal', '10.0.0.5:5000']);
  t.equal(c.runs.maxQueued, 0);
  t.equal(c.dataDir, '/var/lib/slipway');
  t.equal(loadConfig({ PORT: '' }).port, 8080, 'empty means unset');
});

t.test('an open server is refused beyond loopback unless the risk is accepted', async (t) => {
  for (const host of ['0.0.0.0', '192.168.1.10', '::']) {
    t.throws(() => loadConfig({ HOST: host }), { message: new RegExp(`^HOST=${host.replace(/\./g, '\\.')} is not a loopback address`) }, host);
  }
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) t.equal(loadConfig({ HOST: host }).host, host, host);
  t.equal(loadConfig({ HOST: '0.0.0.0', SLIPWAY_ALLOW_UNAUTHENTICATED: '1' }).host, '0.0.0.0');
});

t.test('a default above its cap is lowered to the cap', async (t) => {
  const c = loadConfig({ SLIPWAY_MEMORY_MAX_BYTES: String(256 * MIB), SLIPWAY_PIDS_MAX: '64', SLIPWAY_CPU_MAX: '0.5', SLIPWAY_TIMEOUT_MAX_SECONDS: '30' });
  t.strictSame(c.defaults, { memoryBytes: 256 * MIB, cpus: 0.5, pidsLimit: 64, timeoutSeconds: 30 });
});

t.test('bad values stop start-up naming the variable and the value', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'http' }, /^PORT must be an integer >= 0, got "http"$/],
    [{ PORT: '80.5' }, /^PORT must be an integer/],
    [{ SLIPWAY_MEMORY_MAX_BYTES: '1000' }, /^SLIPWAY_MEMORY_MAX_BYTES must be an integer >= 6291456, got "1000"$/],
    [{ SLIPWAY_MEMORY_DEFAULT_BYTES: '512m' }, /^SLIPWAY_MEMORY_DEFAULT_BYTES must be an integer/],
    [{ SLIPWAY_PIDS_MAX: '0' }, /^SLIPWAY_PIDS_MAX must be an integer >= 1/],
    [{ SLIPWAY_MAX_CONCURRENT_RUNS: '-1' }, /^SLIPWAY_MAX_CONCURRENT_RUNS must be an integer >= 1/],
    [{ SLIPWAY_CPU_MAX: '0' }, /^SLIPWAY_CPU_MAX must be a positive number, got "0"$/],
    [{ SLIPWAY_CPU_MAX: '0.0000001' }, /^SLIPWAY_CPU_MAX must be at least 0.01, got "0.0000001"$/],
    [{ SLIPWAY_CPU_DEFAULT: '0.001' }, /^SLIPWAY_CPU_DEFAULT must be at least 0.01/],
    [{ SLIPWAY_BUILD_CPUS: '0.001' }, /^SLIPWAY_BUILD_CPUS must be at least 0.01/],
    [{ SLIPWAY_CPU_DEFAULT: 'one' }, /^SLIPWAY_CPU_DEFAULT must be a positive number/],
    [{ SLIPWAY_MCP_SESSION_IDLE_SECONDS: 'Infinity' }, /^SLIPWAY_MCP_SESSION_IDLE_SECONDS must be a positive number/],
    [{ SLIPWAY_ALLOW_WRITABLE_ROOTFS: 'maybe' }, /^SLIPWAY_ALLOW_WRITABLE_ROOTFS must be true or false, got "maybe"$/],
    [{ SLIPWAY_REGISTRY_AUTH: '{"ghcr.io":' }, /^SLIPWAY_REGISTRY_AUTH must be JSON$/],
    [{ SLIPWAY_LANGUAGE_PRESETS: 'python=py' }, /^SLIPWAY_LANGUAGE_PRESETS must be JSON$/],
    [{ SLIPWAY_GIT_CREDENTIALS: '{"git.example.com":{"username":"u"}}' }, /^SLIPWAY_GIT_CREDENTIALS\["git\.example\.com"\] must be/],
    [{ SLIPWAY_GIT_CREDENTIALS: '{"git.example.com":{"token":7}}' }, /^SLIPWAY_GIT_CREDENTIALS\["git\.example\.com"\]/],
    [{ SLIPWAY_LOG_LEVEL: 'verbose' }, /^SLIPWAY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/],
    [{ SLIPWAY_LANGUAGE_PRESETS: '{"kotlin":{"image":"kotlin:2"}}' }, /^SLIPWAY_LANGUAGE_PRESETS\["kotlin"\]: a new language needs "image", "file" and "command"/],
    [{ SLIPWAY_LANGUAGE_PRESETS: '{"python":{"command":"python3 main.py"}}' }, /^SLIPWAY_LANGUAGE_PRESETS\["python"\]\.command must be a non-empty array/],
    [{ SLIPWAY_MCP_ALLOWED_HOSTS: 'localhost,http://x/' }, /^SLIPWAY_MCP_ALLOWED_HOSTS holds "http:\/\/x\/", which is not host or host:port, or \*$/],
    [{ SLIPWAY_MCP_ALLOWED_ORIGINS: 'example.com' }, /^SLIPWAY_MCP_ALLOWED_ORIGINS holds "example\.com", which is not scheme:\/\/host/],
    [{ SLIPWAY_CORS_ORIGINS: '*' }, /^SLIPWAY_CORS_ORIGINS entries must be origins like https:\/\/dash\.example\.com .*got "\*"$/],
    [{ SLIPWAY_CORS_ORIGINS: 'https://dash.example.com/ui' }, /^SLIPWAY_CORS_ORIGINS entries must be origins/],
  ];
  for (const [env, message] of cases) t.throws(() => loadConfig(env), { message }, JSON.stringify(env));
  t.throws(() => loadConfig({ SLIPWAY_GIT_OBJECT_MAX_BYTES: String(2 ** 31) }), { message: /^SLIPWAY_GIT_OBJECT_MAX_BYTES must be below 2 GiB/ }, 'an object bound isomorphic-git would read as negative');
});

t.test('CORS: no origin by default, an allow-list of exact origins when set', async (t) => {
  t.same(loadConfig({}).corsOrigins, []);
  t.same(loadConfig({ SLIPWAY_CORS_ORIGINS: 'https://dash.example.com, http://localhost:3000' }).corsOrigins, ['https://dash.example.com', 'http://localhost:3000']);
});

t.test('a new language through SLIPWAY_LANGUAGE_PRESETS is accepted', async (t) => {
  const c = loadConfig({ SLIPWAY_LANGUAGE_PRESETS: '{"awk":{"image":"busybox:1.36","file":"main.awk","command":["awk","-f","main.awk"]}}' });
  t.same(c.languagePresets, { awk: { image: 'busybox:1.36', file: 'main.awk', command: ['awk', '-f', 'main.awk'] } });
});

t.test('an unknown SLIPWAY_ variable is a warning, with the setting it was likely meant to be', async (t) => {
  const c = loadConfig({ SLIPWAY_LOG_LEVLE: 'debug', SLIPWAY_MEMORY_MAX: '1g', SLIPWAY_FROBNICATE: '1', SLIPWAY_CPU_MAX: '2', PATH: '/bin' });
  t.same(c.warnings, [
    'unknown setting SLIPWAY_LOG_LEVLE is ignored (did you mean SLIPWAY_LOG_LEVEL?)',
    'unknown setting SLIPWAY_MEMORY_MAX is ignored (did you mean SLIPWAY_MEMORY_MAX_BYTES?)',
    'unknown setting SLIPWAY_FROBNICATE is ignored',
  ]);
  t.same(loadConfig({ SLIPWAY_CPU_MAX: '2', SLIPWAY_RUNTIME: 'runsc', HOME: '/root' }).warnings, [], 'known settings and other variables are not warned about');
});

t.test('network modes: none and bridge only, never host or container:*', async (t) => {
  for (const modes of ['host', 'none,host', 'container:abc', 'bridge,macvlan', 'NONE']) {
    t.throws(() => loadConfig({ SLIPWAY_NETWORK_MODES: modes }), { message: /^SLIPWAY_NETWORK_MODES may hold none and bridge only, got "/ }, modes);
  }
  t.strictSame(loadConfig({ SLIPWAY_NETWORK_MODES: 'bridge' }).networkModes, ['bridge']);
});

t.test('DOCKER_HOST: a unix socket or tcp host:port, nothing else', async (t) => {
  t.strictSame(parseDockerHost(undefined), { socketPath: '/var/run/docker.sock' });
  t.strictSame(parseDockerHost(''), { socketPath: '/var/run/docker.sock' });
  t.strictSame(parseDockerHost('unix:///run/user/1000/docker.sock'), { socketPath: '/run/user/1000/docker.sock' });
  t.strictSame(parseDockerHost('tcp://10.0.0.5:2375'), { host: '10.0.0.5', port: 2375, protocol: 'http' });
  t.strictSame(parseDockerHost('tcp://docker.internal:2376/'), { host: 'docker.internal', port: 2376, protocol: 'http' });
  for (const bad of ['/var/run/docker.sock', 'tcp://10.0.0.5', 'tcp://10.0.0.5:port', 'tcp://h:1/path', 'ssh://user@host', 'http://h:2375', 'npipe:////./pipe/docker_engine', 'tcp://[::1]:2375']) {
    t.throws(() => parseDockerHost(bad), { message: `DOCKER_HOST must be unix:///path or tcp://host:port, got "${bad}"` }, bad);
  }
  t.strictSame(loadConfig({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }).docker, { host: '127.0.0.1', port: 2375, protocol: 'http' });
});

t.test('SLIPWAY_CONFIG: a JSON file under the environment', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'slipway.json');
  writeFileSync(
    file,
    JSON.stringify({
      PORT: 9000,
      SLIPWAY_INSTANCE: 'from-file',
      SLIPWAY_CPU_MAX: 4,
      SLIPWAY_ALLOW_WRITABLE_ROOTFS: true,
      SLIPWAY_NETWORK_MODES: 'none,bridge',
      SLIPWAY_REGISTRY_AUTH: { 'registry.example.com': { username: 'u', password: 'p' } },
      DOCKER_HOST: 'unix:///from/file.sock',
    }),
  );
  const c = loadConfig({ SLIPWAY_CONFIG: file, SLIPWAY_INSTANCE: 'from-env', SLIPWAY_CPU_MAX: '' });
  t.equal(c.port, 9000, 'numbers');
  t.equal(c.allowWritableRootfs, true, 'booleans');
  t.strictSame(c.registryAuth, { 'registry.example.com': { username: 'u', password: 'p' } }, 'objects');
  t.strictSame(c.networkModes, ['none', 'bridge']);
  t.strictSame(c.docker, { socketPath: '/from/file.sock' });
  t.equal(c.instance, 'from-env', 'the environment wins');
  t.equal(c.caps.cpus, 2, 'an empty variable falls back to the default, not to the file');

  writeFileSync(file, JSON.stringify({ PORT: 'eighty', SLIPWAY_NETWORK_MODES: 'host' }));
  t.throws(() => loadConfig({ SLIPWAY_CONFIG: file }), { message: /^PORT must be an integer/ }, 'file values are checked like variables');
  writeFileSync(file, JSON.stringify({ SLIPWAY_NETWORK_MODES: 'host' }));
  t.throws(() => loadConfig({ SLIPWAY_CONFIG: file }), { message: /SLIPWAY_NETWORK_MODES may hold none and bridge only/ });
  t.throws(() => loadConfig({ SLIPWAY_CONFIG: join(tmpdir(), 'slipway-no-such-config.json') }), { message: /SLIPWAY_CONFIG .*slipway-no-such-config.json could not be read/ });
});

t.test('SLIPWAY_CONFIG: a list may be a JSON array', async (t) => {
  const file = join(t.testdir(), 'slipway.json');
  writeFileSync(file, JSON.stringify({ SLIPWAY_NETWORK_MODES: ['none', 'bridge'], SLIPWAY_GIT_ALLOWED_HOSTS: ['git.example.com'] }));
  const c = loadConfig({ SLIPWAY_CONFIG: file });
  t.strictSame(c.networkModes, ['none', 'bridge']);
  t.strictSame(c.repoBuild.git.allowedHosts, ['git.example.com']);
});

t.test('SLIPWAY_BACKEND chooses the backend: docker by default, an unknown one refused at start', async (t) => {
  t.equal(loadConfig({}).backend, 'docker');
  t.equal(loadConfig({ SLIPWAY_BACKEND: 'docker' }).backend, 'docker');
  t.throws(() => loadConfig({ SLIPWAY_BACKEND: 'kubernetes' }), { message: 'SLIPWAY_BACKEND must be one of docker, swarm, got "kubernetes"' });
});

t.test('one caller\'s share of the run slots leaves a slot for others, and is configurable', async (t) => {
  t.equal(loadConfig({ SLIPWAY_MAX_CONCURRENT_RUNS: '1' }).runs.maxRunningPerCaller, 1, 'one slot: the queue takes turns');
  t.equal(loadConfig({ SLIPWAY_MAX_CONCURRENT_RUNS: '10' }).runs.maxRunningPerCaller, 9);
  t.equal(loadConfig({ SLIPWAY_MAX_CONCURRENT_RUNS: '10', SLIPWAY_MAX_RUNNING_PER_CALLER: '5' }).runs.maxRunningPerCaller, 5);
  t.throws(() => loadConfig({ SLIPWAY_MAX_RUNNING_PER_CALLER: '0' }), /SLIPWAY_MAX_RUNNING_PER_CALLER must be an integer >= 1/);
});

t.test('MCP SSE polling: streams prime with a 1 s retry and long calls close theirs after 50 s, unless configured', async (t) => {
  t.strictSame(loadConfig({}).mcp.ssePolling, { retryMs: 1000, closeAfterMs: 50_000 });
  t.equal(loadConfig({}).mcp.conformanceTools, false, 'the conformance suite\'s tools are off by default');
  const c = loadConfig({ SLIPWAY_MCP_SSE_RETRY_MS: '300', SLIPWAY_MCP_STREAM_CLOSE_SECONDS: '0', SLIPWAY_MCP_CONFORMANCE_TOOLS: 'true' });
  t.strictSame(c.mcp.ssePolling, { retryMs: 300, closeAfterMs: 0 }, '0 keeps every stream open to the end');
  t.equal(c.mcp.conformanceTools, true);
  t.throws(() => loadConfig({ SLIPWAY_MCP_STREAM_CLOSE_SECONDS: '1.5' }), { message: /^SLIPWAY_MCP_STREAM_CLOSE_SECONDS must be an integer >= 0/ });
  t.throws(() => loadConfig({ SLIPWAY_MCP_SSE_RETRY_MS: '0' }), { message: /^SLIPWAY_MCP_SSE_RETRY_MS must be an integer >= 1/ });
});
