import t from 'tap';
import { buildImageTag, cacheKey, checkBuildArgs, checkTarget, normaliseRepoUrl, sanitiseRepoName, type BuildInputs } from '../../lib/build-inputs.js';
import { buildStepSpec } from '../../lib/docker/build-steps.js';
import { BoundedLines } from '../../lib/image-build.js';
import { IMAGE_REFERENCE_PATTERN } from '../../schemas/common.js';

const base: BuildInputs = {
  instance: 'default',
  repoUrl: 'https://github.com/owner/repo.git',
  commitSha: 'a'.repeat(40),
  contextPath: '.',
  dockerfilePath: 'Dockerfile',
  buildArgs: { B: '2', A: '1' },
};

t.test('build argument names follow the shell-variable grammar; values are capped', async (t) => {
  t.same(checkBuildArgs({ GREETING: 'hi', _x1: '' }), { GREETING: 'hi', _x1: '' });
  t.same(checkBuildArgs(undefined), {});
  for (const name of ['1ABC', 'A-B', 'A B', 'A=B', '$(id)', '']) {
    t.throws(() => checkBuildArgs({ [name]: 'v' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: `build_args.${name}` }, JSON.stringify(name));
  }
  t.throws(() => checkBuildArgs({ BIG: 'x'.repeat(4097) }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'build_args.BIG' });
  t.throws(() => checkBuildArgs({ NUL: 'a\0b' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'build_args.NUL' });
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`A${i}`, 'v']));
  t.throws(() => checkBuildArgs(many), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'build_args' });
});

t.test('target is a stage name', async (t) => {
  t.equal(checkTarget('test-stage.1'), 'test-stage.1');
  t.equal(checkTarget(undefined), undefined);
  for (const bad of ['', '1st', 'a b', 'a;b', '-x']) t.throws(() => checkTarget(bad), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'target' }, JSON.stringify(bad));
});

t.test('the cache key covers every input and ignores build argument order', async (t) => {
  const key = cacheKey(base);
  t.match(key, /^[0-9a-f]{64}$/);
  t.equal(cacheKey({ ...base, buildArgs: { A: '1', B: '2' } }), key, 'same arguments in another order');
  t.equal(cacheKey({ ...base, repoUrl: 'https://GITHUB.com/owner/repo/' }), key, 'the same repository spelled differently');
  const variants: Partial<BuildInputs>[] = [
    { instance: 'other' },
    { repoUrl: 'https://github.com/owner/other.git' },
    { commitSha: 'b'.repeat(40) },
    { contextPath: 'sub' },
    { dockerfilePath: 'Dockerfile.dev' },
    { buildArgs: { A: '1', B: '3' } },
    { buildArgs: { A: '1' } },
    { target: 'test' },
  ];
  const keys = new Set(variants.map((v) => cacheKey({ ...base, ...v })));
  t.equal(keys.size, variants.length, 'each change gives its own key');
  t.notOk(keys.has(key));
  // Argument boundaries cannot be shifted to collide: {"A": "1,B"} is not {"A": "1", "B": ...}.
  t.not(cacheKey({ ...base, buildArgs: { A: '1","B' } }), cacheKey({ ...base, buildArgs: { A: '1', B: '' } }));
});

t.test('the tag is a valid Docker reference under slipway-build/', async (t) => {
  const key = cacheKey(base);
  const tag = buildImageTag(base.repoUrl, key);
  t.equal(tag, `slipway-build/github.com-owner-repo:${key.slice(0, 32)}`);
  const pattern = new RegExp(IMAGE_REFERENCE_PATTERN);
  for (const url of ['https://GitHub.com/Owner/My_Repo.git', 'http://127.0.0.1:8080/a/b/c.git', 'https://h/--weird..name__/', 'https://x.example/' + 'long'.repeat(80), 'not a url at all!']) {
    const t2 = buildImageTag(url, key);
    t.match(t2, pattern, `${url} -> ${t2}`);
    t.ok(t2.length <= 255);
  }
  t.equal(sanitiseRepoName('https://GitHub.com/Owner/My_Repo.git'), 'github.com-owner-my_repo');
  t.equal(sanitiseRepoName('https://h/--weird..name__/'), 'h-weird-name');
});

t.test('normaliseRepoUrl drops what does not change the repository', async (t) => {
  t.equal(normaliseRepoUrl('https://GitHub.com/o/r.git/'), 'https://github.com/o/r');
  t.equal(normaliseRepoUrl('https://github.com:443/o/r#frag'), 'https://github.com/o/r');
});

t.test('a build step container is as hardened as a run, with a writable root and no network unless allowed', async (t) => {
  const config = { Env: ['A=1'], Cmd: null, Entrypoint: ['/entry'], WorkingDir: '/w', User: '1000', Labels: {}, ExposedPorts: {}, Shell: null };
  const limits = { memoryBytes: 256 * 1024 * 1024, cpus: 0.0000001, pidsLimit: 64, timeoutSeconds: 60, network: false, maxLayerBytes: 1024 };
  const spec = buildStepSpec('sha256:abc', config, ['/bin/sh', '-c', 'true'], ['X=2'], { limits, containerLabels: { 'io.slipway.build': 'step' } });
  t.match(spec, { Image: 'sha256:abc', Cmd: ['/bin/sh', '-c', 'true'], Entrypoint: [], Env: ['A=1', 'X=2'], WorkingDir: '/w', User: '1000', Labels: { 'io.slipway.build': 'step' }, NetworkDisabled: true });
  t.match(spec.HostConfig, {
    Privileged: false,
    CapDrop: ['ALL'],
    CapAdd: [],
    SecurityOpt: ['no-new-privileges:true'],
    NetworkMode: 'none',
    PidsLimit: 64,
    Memory: 268435456,
    MemorySwap: 268435456,
    NanoCpus: 10_000_000,
    ReadonlyRootfs: false,
    Init: true,
    Binds: [],
  });
  t.notOk(spec.HostConfig!.Tmpfs, 'what a step writes to /tmp is part of its layer');
  t.equal(buildStepSpec('i', config, ['x'], [], { limits: { ...limits, network: true }, containerLabels: {} }).HostConfig!.NetworkMode, 'bridge');
});

t.test('BoundedLines keeps the end and says how much it dropped', async (t) => {
  const lines = new BoundedLines(20);
  for (const l of ['one', 'two', 'three', 'four', 'five', 'six']) lines.push(l);
  t.match(lines.text(), /^\[\d+ bytes of earlier output omitted\]\n/);
  t.match(lines.text(), /five\nsix$/);
  const small = new BoundedLines(100);
  small.push('a');
  small.push('b');
  t.equal(small.text(), 'a\nb');
  const huge = new BoundedLines(40);
  huge.push('x'.repeat(1000) + 'END');
  t.match(huge.text(), /END$/);
  t.ok(huge.text().length < 100);
});
