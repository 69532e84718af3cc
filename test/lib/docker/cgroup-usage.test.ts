// The cgroup reader against cgroup trees laid out in a temporary directory, as the kernel
// lays them out (v1: a directory per controller; v2: one tree): which engines it refuses
// and why, the figures it reads, and the removal of a run's cgroup.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { pino } from 'pino';
import { LEFTOVER_AGE_MS, probeCgroups, readLiveUsage, readRunUsage, removeRunCgroup, runCgroupParent, sweepRunCgroups } from '../../../lib/docker/cgroup-usage.js';

const ID = 'a'.repeat(64);
const PARENT = runCgroupParent('r1');
const log = pino({ level: 'silent' });

async function tree(t: Test, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'slipway-cgroup-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const docker = { local: true, flavour: 'docker' as const, cgroupDriver: 'cgroupfs', cgroupVersion: '1' };

t.test('the probe says why the host cgroup files cannot be used, engine by engine', async (t) => {
  const root = await tree(t, { 'memory/x': '', 'cpuacct/x': '' });
  t.match(await probeCgroups({ ...docker, local: false }, root), { version: null, reason: /not on this host/ });
  t.match(await probeCgroups({ ...docker, flavour: 'podman' }, root), { version: null, reason: /Podman/ });
  t.match(await probeCgroups({ ...docker, cgroupDriver: 'systemd' }, root), { version: null, reason: /driver is systemd, not cgroupfs/ });
  t.match(await probeCgroups({ ...docker, cgroupVersion: undefined }, root), { version: null, reason: /version is unknown/ });
  t.match(await probeCgroups({ ...docker, cgroupVersion: '2' }, root), { version: null, reason: /cannot read and write/ }, 'a v1 tree is not a v2 one');
  t.same(await probeCgroups(docker, root), { version: 'v1', root });
});

t.test("a finished run's figures are read from its parent cgroup, v1 and v2; a missing parent is null", async (t) => {
  const v1 = await tree(t, { [`memory${PARENT}/memory.max_usage_in_bytes`]: '4345856\n', [`cpuacct${PARENT}/cpuacct.usage`]: '31685368\n' });
  t.same(await readRunUsage('v1', v1, PARENT), { cpu_seconds: 0.032, memory_peak_bytes: 4345856 });
  const v2 = await tree(t, { [`${PARENT}/memory.peak`]: '5242880\n', [`${PARENT}/cpu.stat`]: 'usage_usec 1500000\nuser_usec 1000000\n' });
  t.same(await readRunUsage('v2', v2, PARENT), { cpu_seconds: 1.5, memory_peak_bytes: 5242880 });
  t.equal(await readRunUsage('v1', v1, runCgroupParent('other')), null);
});

t.test("a live container's memory now leaves out inactive file cache; its peak is null where v2 keeps none", async (t) => {
  const v1 = await tree(t, {
    [`memory/docker/${ID}/memory.usage_in_bytes`]: '100000000',
    [`memory/docker/${ID}/memory.max_usage_in_bytes`]: '120000000',
    [`memory/docker/${ID}/memory.stat`]: 'cache 5000\ntotal_inactive_file 30000000\n',
    [`cpuacct/docker/${ID}/cpuacct.usage`]: '2500000000',
  });
  t.match(await readLiveUsage('v1', v1, ID), { cpuSeconds: 2.5, memoryBytes: 70000000, memoryPeakBytes: 120000000, sampledAt: Date });
  const v2 = await tree(t, { [`docker/${ID}/memory.current`]: '1000', [`docker/${ID}/memory.stat`]: 'inactive_file 400\n', [`docker/${ID}/cpu.stat`]: 'usage_usec 20000\n' });
  t.match(await readLiveUsage('v2', v2, ID), { cpuSeconds: 0.02, memoryBytes: 600, memoryPeakBytes: null });
  t.equal(await readLiveUsage('v1', v1, 'b'.repeat(64)), null, 'not under /docker: null');
  t.equal(await readLiveUsage('v1', v1, '../../etc'), null, 'never a path from anything but a container id');
});

t.test("a run's cgroup is removed from every v1 hierarchy it is in; absent ones are fine", async (t) => {
  const root = await tree(t, { 'memory/keep': '', 'cpuacct/keep': '', 'pids/keep': '' });
  await mkdir(join(root, 'memory', PARENT));
  await mkdir(join(root, 'cpuacct', PARENT));
  await removeRunCgroup('v1', root, PARENT, log);
  t.notOk(existsSync(join(root, 'memory', PARENT)));
  t.notOk(existsSync(join(root, 'cpuacct', PARENT)));
  t.ok(existsSync(join(root, 'memory', 'keep')), 'nothing else is touched');
});

t.test('a sweep removes empty run cgroups left long ago, never a running one or one just ended', async (t) => {
  const root = await tree(t, { 'memory/keep': '', 'cpuacct/keep': '' });
  const [left, running, ended] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'].map(runCgroupParent);
  for (const parent of [left!, running!, ended!]) for (const h of ['memory', 'cpuacct']) await mkdir(join(root, h, parent));
  await mkdir(join(root, 'memory', running!, ID));
  const old = new Date(Date.now() - 2 * LEFTOVER_AGE_MS);
  for (const parent of [left!, running!]) await utimes(join(root, 'memory', parent), old, old);
  t.equal(await sweepRunCgroups('v1', root, log), 1);
  t.notOk(existsSync(join(root, 'memory', left!)), 'the leftover is gone');
  t.notOk(existsSync(join(root, 'cpuacct', left!)), 'from every hierarchy');
  t.ok(existsSync(join(root, 'memory', running!)), "a run's cgroup holding its container's is kept");
  t.ok(existsSync(join(root, 'memory', ended!)), 'one just ended is left to its own gateway');
});
