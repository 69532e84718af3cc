import t from 'tap';
import type Docker from 'dockerode';
import { buildContainerSpec } from '../../../lib/docker/container-spec.js';
import { hostConfigLimits } from '../../../lib/docker/host-config-limits.js';
import { droppedLimits } from '../../../lib/runtime/limits-check.js';

const limits = { memoryBytes: 64 * 1024 * 1024, nanoCpus: 5e8, pidsLimit: 64, readOnlyRootfs: true, networkMode: 'none' as const, timeoutMs: 10_000 };
const sent = buildContainerSpec({ image: 'busybox', labels: {}, limits, openStdin: false, stopGraceSeconds: 2 }).HostConfig!;

// What Docker 20.10 and rootful Podman 4.3 answered to `inspect` for that create body (recorded here).
const DOCKER_INSPECT: Docker.HostConfig = {
  Memory: 67108864, MemorySwap: 67108864, NanoCpus: 500000000, CpuQuota: 0, CpuPeriod: 0, PidsLimit: 64, ReadonlyRootfs: true,
  CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges:true'], NetworkMode: 'none',
  Ulimits: [{ Name: 'nofile', Hard: 4096, Soft: 4096 }, { Name: 'nproc', Hard: 4096, Soft: 4096 }, { Name: 'fsize', Hard: 1073741824, Soft: 1073741824 }],
};
const PODMAN_INSPECT: Docker.HostConfig = {
  Memory: 67108864, MemorySwap: 67108864, NanoCpus: 500000000, CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: 64, ReadonlyRootfs: true,
  CapDrop: ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'],
  CapAdd: [], SecurityOpt: ['no-new-privileges'], NetworkMode: 'none',
  Ulimits: [{ Name: 'RLIMIT_NOFILE', Hard: 4096, Soft: 4096 }, { Name: 'RLIMIT_NPROC', Hard: 4096, Soft: 4096 }, { Name: 'RLIMIT_FSIZE', Hard: 1073741824, Soft: 1073741824 }],
};

t.test('the hardened create body reads as every limit asked for', async (t) => {
  t.same(hostConfigLimits(sent), {
    memoryBytes: limits.memoryBytes, memorySwapBytes: limits.memoryBytes, nanoCpus: 5e8, pidsLimit: 64, readOnlyRootfs: true,
    allCapabilitiesDropped: true, noNewPrivileges: true, networkMode: 'none',
    ulimits: { nofile: { soft: 4096, hard: 4096 }, nproc: { soft: 4096, hard: 4096 }, fsize: { soft: 1024 ** 3, hard: 1024 ** 3 } },
  });
});

t.test("Docker's and Podman's inspect of it both read as kept, in their own words", async (t) => {
  t.same(droppedLimits(hostConfigLimits(sent), hostConfigLimits(DOCKER_INSPECT)), []);
  t.same(droppedLimits(hostConfigLimits(sent), hostConfigLimits(PODMAN_INSPECT)), []);
  t.equal(hostConfigLimits({ CpuQuota: 50000, CpuPeriod: 100000 }).nanoCpus, 5e8, 'CPU kept as a quota counts');
});

t.test('capabilities count as all dropped only when nothing is added back and the common defaults are gone', async (t) => {
  t.notOk(hostConfigLimits({ ...PODMAN_INSPECT, CapAdd: ['NET_RAW'] }).allCapabilitiesDropped);
  t.notOk(hostConfigLimits({ ...PODMAN_INSPECT, CapDrop: ['NET_RAW', 'MKNOD'] }).allCapabilitiesDropped);
  t.notOk(hostConfigLimits({}).allCapabilitiesDropped);
  t.ok(hostConfigLimits({ CapDrop: ['CAP_ALL'] }).allCapabilitiesDropped);
});

t.test('an inspect without the limits (rootless Podman on cgroup v1) reads as dropped', async (t) => {
  const rootless = { ...PODMAN_INSPECT, Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, PidsLimit: 0 };
  t.same(droppedLimits(hostConfigLimits(sent), hostConfigLimits(rootless)).map((d) => d.limit), ['memory', 'memory+swap', 'cpu', 'pids']);
  t.same(droppedLimits(hostConfigLimits(sent), hostConfigLimits({ ...DOCKER_INSPECT, SecurityOpt: [] })).map((d) => d.limit), ['no-new-privileges']);
});
