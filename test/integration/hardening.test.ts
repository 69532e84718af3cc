// The hardened defaults of SECURITY.md, seen from the engine (inspect) and from inside.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { waitForRunning } from '../fixtures/engine-view.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED, LABEL_RUN_ID } from '../../lib/labels.js';

const INSTANCE = `${TEST_INSTANCE}-hardening`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE });
t.teardown(() => gw.close());

// Reads the process's view of its limits on cgroup v1 or v2, whichever the host runs.
const PROBE = [
  'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs)" /proc/self/status',
  'echo "ifaces: $(ls /sys/class/net | tr "\\n" " ")"',
  'touch /probe 2>/dev/null && echo "rootfs: writable" || echo "rootfs: read-only"',
  'echo "user: $(id -u)"',
  'echo "memory: $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  'echo "pids: $(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"',
  'grep " /tmp " /proc/mounts',
].join('; ');

t.test('inside the container: no capabilities, no new privileges, read-only root, only lo, limits', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: PROBE, memory_limit: '64m', pids_limit: 50 });
  t.equal(res.status, 200);
  const out: string = res.body.stdout;
  t.match(out, /CapEff:\s+0000000000000000/);
  t.match(out, /CapPrm:\s+0000000000000000/);
  t.match(out, /CapBnd:\s+0000000000000000/);
  t.match(out, /NoNewPrivs:\s+1/);
  t.match(out, /ifaces: lo \n/);
  t.match(out, /rootfs: read-only/);
  t.match(out, /user: 65534/);
  t.match(out, new RegExp(`memory: ${64 * 1024 * 1024}\\n`));
  t.match(out, /pids: 50\n/);
  t.match(out, /\/tmp tmpfs rw,nosuid,nodev.*size=65536k/);
});

t.test('the engine\'s view of a running container', async (t) => {
  const pending = gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sleep', '30'], cpu_limit: 0.5, timeout: 60 });
  const id = (await waitForRunning(INSTANCE)).Id;
  const info = await docker.getContainer(id).inspect();
  const h = info.HostConfig;
  t.equal(h.Privileged, false);
  t.same(h.CapDrop, ['ALL']);
  t.notOk(h.CapAdd && h.CapAdd.length);
  t.same(h.SecurityOpt, ['no-new-privileges:true']);
  t.equal(h.NetworkMode, 'none');
  t.equal(h.PidsLimit, 256);
  t.equal(h.Memory, 512 * 1024 * 1024);
  t.equal(h.MemorySwap, 512 * 1024 * 1024, 'no swap on top');
  t.equal(h.NanoCpus, 0.5e9);
  t.equal(h.ReadonlyRootfs, true);
  t.same(h.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m' });
  t.equal(h.Init, true);
  t.notOk(h.Binds && h.Binds.length, 'no binds');
  t.notOk(h.Devices && h.Devices.length, 'no devices');
  t.notOk(h.PortBindings && Object.keys(h.PortBindings).length, 'no published ports');
  t.match(h.Ulimits, [{ Name: 'nofile' }, { Name: 'nproc' }, { Name: 'fsize' }]);
  t.match(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
  t.match(info.Config.Labels, { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: INSTANCE, [LABEL_KIND]: 'image', [LABEL_RUN_ID]: /.+/ });
  t.equal((info.Config as { StopSignal?: string }).StopSignal, 'SIGTERM');
  await gw.request('POST', `/v1/containers/${id}/stop`, { timeout: 0 });
  t.match((await pending).body, { status: 'cancelled' });
});

t.test('a payload run\'s container: read-only root, the agent in the gateway\'s shared, labelled, read-only volume, /workspace a bounded tmpfs; the container removed with its run', async (t) => {
  const pending = gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'sleep 30', memory_limit: '64m' });
  const running = await waitForRunning(INSTANCE);
  const { Volumes: during } = await docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
  t.equal(during?.length, 1, 'the volume carries the instance label');
  t.match(during?.[0]?.Labels, { [LABEL_KIND]: 'agent' }, 'and is the shared agent volume, no run\'s');
  t.match(running.Mounts, [{ Type: 'volume', Name: during?.[0]?.Name, Destination: '/.slipway', RW: false }]);
  const info = await docker.getContainer(running.Id).inspect();
  t.equal(info.HostConfig.ReadonlyRootfs, true);
  t.same(info.HostConfig.CapDrop, ['ALL']);
  t.equal(info.HostConfig.NetworkMode, 'none');
  t.match(info.HostConfig.Tmpfs, { '/workspace': /^rw,exec,nosuid,nodev,size=33554432,uid=65534,gid=65534,mode=0700$/ });
  t.match(info.Config.Labels, { [LABEL_KIND]: 'payload', [LABEL_RUN_ID]: /.+/ });
  await gw.request('POST', `/v1/containers/${running.Id}/stop`, { timeout: 0 });
  t.match((await pending).body, { status: 'cancelled' });
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
  t.same((Volumes ?? []).map((v) => v.Name), [during?.[0]?.Name], 'the shared agent volume stays for the next run (the gateway removes it at close)');
  t.same(await docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN_ID}=${running.Labels[LABEL_RUN_ID]}`] } }), [], 'the run\'s container is removed');
});
