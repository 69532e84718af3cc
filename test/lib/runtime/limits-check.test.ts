import t from 'tap';
import { assertLimitsKept, droppedLimits, limitsShape, LimitsVerdicts, type EngineLimits } from '../../../lib/runtime/limits-check.js';

const REQUESTED: EngineLimits = {
  memoryBytes: 256 * 1024 * 1024,
  memorySwapBytes: 256 * 1024 * 1024,
  nanoCpus: 1e9,
  pidsLimit: 128,
  readOnlyRootfs: true,
  allCapabilitiesDropped: true,
  noNewPrivileges: true,
  networkMode: 'none',
  ulimits: { nofile: { soft: 4096, hard: 4096 }, nproc: { soft: 4096, hard: 4096 } },
};

t.test('an engine that kept every limit passes', async (t) => {
  t.same(droppedLimits(REQUESTED, structuredClone(REQUESTED)), []);
  t.doesNotThrow(() => assertLimitsKept('Docker', REQUESTED, structuredClone(REQUESTED)));
});

t.test('rootless Podman on cgroup v1 (memory, CPU and pids reported as 0) is refused, naming each limit', async (t) => {
  const reported = { ...REQUESTED, memoryBytes: 0, memorySwapBytes: 0, nanoCpus: 0, pidsLimit: 0 };
  t.same(droppedLimits(REQUESTED, reported).map((d) => d.limit), ['memory', 'memory+swap', 'cpu', 'pids']);
  t.throws(() => assertLimitsKept('Podman', REQUESTED, reported), {
    code: 'SLIPWAY_ERR_ENGINE_LIMITS',
    statusCode: 502,
    message: /^the Podman engine did not apply limits this run requires, so it was not started: memory \(asked 268435456, the engine reports 0\), memory\+swap .*, cpu .*, pids \(asked 128, the engine reports 0\)$/,
  });
});

t.test('hardening the engine left out is a dropped limit too', async (t) => {
  const reported: EngineLimits = { ...REQUESTED, readOnlyRootfs: false, allCapabilitiesDropped: false, noNewPrivileges: false, networkMode: 'bridge', ulimits: { nofile: { soft: 1024, hard: 4096 } } };
  t.same(droppedLimits(REQUESTED, reported).map((d) => d.limit), ['read-only root filesystem', 'all capabilities dropped', 'no-new-privileges', 'network', 'ulimit nofile', 'ulimit nproc']);
  t.match(droppedLimits(REQUESTED, {})[0], { limit: 'memory', reported: 'nothing' }, 'a field the engine does not report at all');
});

t.test('only what was requested is checked: a backend that sets fewer fields is held to those', async (t) => {
  t.same(droppedLimits({ memoryBytes: 1 }, { memoryBytes: 1, pidsLimit: 0 }), []);
  t.throws(() => assertLimitsKept('Swarm', { pidsLimit: 5 }, { pidsLimit: 0 }), { message: /a limit this run requires.*: pids \(asked 5, the engine reports 0\)$/ });
});

t.test('a passing verdict is remembered per shape for a while; a failing one never is', async (t) => {
  let now = 0;
  const verdicts = new LimitsVerdicts(() => now);
  const shape = limitsShape(REQUESTED, 'runc');
  t.ok(verdicts.needsCheck(shape), 'a new shape is checked');
  verdicts.kept(shape);
  t.notOk(verdicts.needsCheck(shape), 'the same shape is not checked again');
  t.equal(limitsShape({ ...REQUESTED }, 'runc'), shape, 'the key does not depend on field order');
  t.ok(verdicts.needsCheck(limitsShape({ ...REQUESTED, pidsLimit: 64 }, 'runc')), 'another shape is checked');
  t.ok(verdicts.needsCheck(limitsShape(REQUESTED, 'runsc')), 'another OCI runtime is checked');
  now += 5 * 60_000;
  t.ok(verdicts.needsCheck(shape), 'checked again once the verdict is old');
});
