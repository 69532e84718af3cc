import t from 'tap';
import { buildContainerSpec, type ContainerSpecInput } from '../../../lib/docker/container-spec.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED, LABEL_RUN_ID, runLabels } from '../../../lib/labels.js';
import type { ResolvedLimits } from '../../../lib/policy.js';

const MIB = 1024 * 1024;
const limits: ResolvedLimits = { memoryBytes: 256 * MIB, nanoCpus: 500_000_000, pidsLimit: 64, timeoutMs: 10_000, networkMode: 'none', readOnlyRootfs: true };
const labels = runLabels('unit', 'run-1', 'payload');

function input(overrides: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return { image: 'python:3.12-slim', labels, limits, openStdin: false, stopGraceSeconds: 3, ...overrides };
}

t.test('every hardened HostConfig field of SECURITY.md is set', async (t) => {
  const host = buildContainerSpec(input()).HostConfig!;
  t.equal(host.Privileged, false);
  t.strictSame(host.CapDrop, ['ALL']);
  t.strictSame(host.CapAdd, []);
  t.strictSame(host.SecurityOpt, ['no-new-privileges:true']);
  t.equal(host.NetworkMode, 'none');
  t.equal(host.PidsLimit, 64);
  t.equal(host.Memory, 256 * MIB);
  t.equal(host.MemorySwap, 256 * MIB, 'MemorySwap equals Memory: no swap');
  t.equal(host.NanoCpus, 500_000_000);
  t.equal(host.ReadonlyRootfs, true);
  t.strictSame(host.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m' });
  t.strictSame(host.Ulimits, [
    { Name: 'nofile', Soft: 4096, Hard: 4096 },
    { Name: 'nproc', Soft: 4096, Hard: 4096 },
    { Name: 'fsize', Soft: 1024 ** 3, Hard: 1024 ** 3 },
  ]);
  t.equal(host.Init, true);
  t.strictSame(host.Binds, []);
  t.strictSame(host.Devices, []);
  t.strictSame(host.PortBindings, {});
  t.equal(host.PublishAllPorts, false);
  t.strictSame(host.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '1' } });
  t.equal(host.AutoRemove, false);
  t.strictSame(host.RestartPolicy, { Name: 'no' });
  for (const absent of ['Mounts', 'DeviceRequests', 'PidMode', 'IpcMode', 'UsernsMode', 'Sysctls', 'Runtime', 'VolumesFrom', 'CgroupParent', 'Links']) {
    t.notOk(absent in host, `no ${absent}`);
  }
});

t.test('container fields: image, labels, env, no TTY, SIGTERM with the configured grace', async (t) => {
  const spec = buildContainerSpec(input({ env: { A: '1', B: 'x=y', EMPTY: '' }, stopGraceSeconds: 7 }));
  t.equal(spec.Image, 'python:3.12-slim');
  t.strictSame(spec.Labels, { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: 'unit', [LABEL_RUN_ID]: 'run-1', [LABEL_KIND]: 'payload' });
  t.strictSame(spec.Env, ['A=1', 'B=x=y', 'EMPTY=']);
  t.equal(spec.Tty, false);
  t.equal(spec.AttachStdout, true);
  t.equal(spec.AttachStderr, true);
  t.equal(spec.StopSignal, 'SIGTERM');
  t.equal(spec.StopTimeout, 7);
  t.equal(spec.NetworkDisabled, true, 'network none also disables networking');
  t.strictSame(buildContainerSpec(input({ env: undefined })).Env, []);
});

t.test('optional fields appear only when given', async (t) => {
  const bare = buildContainerSpec(input());
  for (const absent of ['name', 'Cmd', 'Entrypoint', 'WorkingDir', 'User']) t.notOk(absent in bare, `no ${absent}`);
  const full = buildContainerSpec(input({ name: 'slipway-run-1', cmd: ['python3', 'main.py'], entrypoint: ['/bin/sh', '-c'], workingDir: '/workspace', user: '65534:65534' }));
  t.equal(full.name, 'slipway-run-1');
  t.strictSame(full.Cmd, ['python3', 'main.py']);
  t.strictSame(full.Entrypoint, ['/bin/sh', '-c']);
  t.equal(full.WorkingDir, '/workspace');
  t.equal(full.User, '65534:65534');
});

t.test('bridge networking and a writable root follow the resolved limits', async (t) => {
  const spec = buildContainerSpec(input({ limits: { ...limits, networkMode: 'bridge', readOnlyRootfs: false } }));
  t.equal(spec.HostConfig!.NetworkMode, 'bridge');
  t.equal(spec.NetworkDisabled, false);
  t.equal(spec.HostConfig!.ReadonlyRootfs, false);
  t.strictSame(spec.HostConfig!.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m' }, '/tmp stays a bounded tmpfs');
});

t.test('the OCI runtime is set only when configured', async (t) => {
  t.equal(buildContainerSpec(input({ runtime: 'runsc' })).HostConfig!.Runtime, 'runsc');
  t.notOk('Runtime' in buildContainerSpec(input({ runtime: '' })).HostConfig!);
});

t.test('the payload volume is the only mount, empty and labelled', async (t) => {
  const host = buildContainerSpec(input({ volume: { name: 'slipway-run-1', target: '/workspace' } })).HostConfig!;
  t.strictSame(host.Mounts, [
    {
      Type: 'volume',
      Source: 'slipway-run-1',
      Target: '/workspace',
      ReadOnly: false,
      VolumeOptions: { NoCopy: true, Labels: labels, DriverConfig: { Name: 'local', Options: {} } },
    },
  ]);
  t.strictSame(host.Binds, [], 'still no binds');
});

t.test('a sandbox mounts its agent volume read-only and adds its workspace tmpfs beside /tmp', async (t) => {
  const host = buildContainerSpec(
    input({ volume: { name: 'slipway-sbx-1', target: '/.slipway', readOnly: true }, extraTmpfs: { '/workspace': 'rw,nosuid,nodev,size=1024,uid=65534,gid=65534,mode=0700' } }),
  ).HostConfig!;
  t.equal(host.Mounts?.[0]?.ReadOnly, true);
  t.strictSame(host.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m', '/workspace': 'rw,nosuid,nodev,size=1024,uid=65534,gid=65534,mode=0700' });
});

t.test('stdin is attached, opened and closed after the caller\'s text only when asked', async (t) => {
  const open = buildContainerSpec(input({ openStdin: true }));
  t.match(open, { AttachStdin: true, OpenStdin: true, StdinOnce: true });
  const closed = buildContainerSpec(input({ openStdin: false }));
  t.match(closed, { AttachStdin: false, OpenStdin: false, StdinOnce: false });
});

t.test('each spec is a fresh object: changing one does not change the next', async (t) => {
  const first = buildContainerSpec(input());
  first.HostConfig!.CapDrop!.pop();
  first.HostConfig!.Tmpfs!['/tmp'] = 'rw,exec';
  (first.HostConfig!.Binds as string[]).push('/:/host');
  const second = buildContainerSpec(input());
  t.strictSame(second.HostConfig!.CapDrop, ['ALL']);
  t.strictSame(second.HostConfig!.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m' });
  t.strictSame(second.HostConfig!.Binds, []);
});

t.test('each VOLUME the image declares gets a bounded tmpfs, never an anonymous volume on host disk', async (t) => {
  const tmpfs = buildContainerSpec(input({ imageVolumes: ['/data', '/var/lib/x/', 'rel', '/tmp'] })).HostConfig!.Tmpfs;
  const bounded = 'rw,nosuid,nodev,size=64m';
  t.strictSame(tmpfs, { '/tmp': bounded, '/data': bounded, '/var/lib/x': bounded, '/rel': bounded }, 'cleaned as the engine compares destinations');
  const withPayload = buildContainerSpec(input({ imageVolumes: ['/workspace', '/data'], volume: { name: 'v', target: '/workspace' } })).HostConfig!;
  t.strictSame(withPayload.Tmpfs, { '/tmp': bounded, '/data': bounded }, 'the payload volume keeps its own path');
});
