import t from 'tap';
import { resolveLimits, type RunPolicy } from '../../lib/policy.js';

const MIB = 1024 * 1024;

function policy(overrides: Partial<RunPolicy> = {}): RunPolicy {
  return {
    defaults: { memoryBytes: 512 * MIB, cpus: 1, pidsLimit: 128, timeoutSeconds: 60 },
    caps: { memoryBytes: 2048 * MIB, cpus: 2, pidsLimit: 256, timeoutSeconds: 3600 },
    networkModes: ['none'],
    allowWritableRootfs: false,
    ...overrides,
  };
}

t.test('nothing asked for: the server defaults, no network, read-only root', async (t) => {
  t.strictSame(resolveLimits({}, policy()), {
    memoryBytes: 512 * MIB,
    nanoCpus: 1_000_000_000,
    pidsLimit: 128,
    timeoutMs: 60_000,
    networkMode: 'none',
    readOnlyRootfs: true,
  });
});

t.test('values within the caps are used, converted to engine units', async (t) => {
  const limits = resolveLimits({ memory_limit: '1g', cpu_limit: 0.5, pids_limit: 10, timeout: 2.5, read_only: true }, policy());
  t.equal(limits.memoryBytes, 1024 * MIB);
  t.equal(limits.nanoCpus, 500_000_000);
  t.equal(limits.pidsLimit, 10);
  t.equal(limits.timeoutMs, 2500);
  t.equal(limits.readOnlyRootfs, true);
  t.equal(resolveLimits({ cpu_limit: 1.5 }, policy()).nanoCpus, 1_500_000_000);
  t.equal(resolveLimits({ cpu_limit: 0.01 }, policy()).nanoCpus, 10_000_000, 'a hundredth of a CPU, the smallest share');
  t.equal(resolveLimits({ memory_limit: '300000000' }, policy()).memoryBytes, 300_000_000, 'bytes without a unit');
});

t.test('exactly the cap is allowed', async (t) => {
  const limits = resolveLimits({ memory_limit: '2g', cpu_limit: 2, pids_limit: 256, timeout: 3600 }, policy());
  t.equal(limits.memoryBytes, 2048 * MIB);
  t.equal(limits.nanoCpus, 2_000_000_000);
  t.equal(limits.pidsLimit, 256);
  t.equal(limits.timeoutMs, 3_600_000);
});

t.test('anything above a cap is refused with 403 naming the field, never clamped', async (t) => {
  const denied = (field: string) => ({ code: 'SLIPWAY_ERR_POLICY_DENIED', statusCode: 403, field });
  t.throws(() => resolveLimits({ memory_limit: '2049m' }, policy()), { ...denied('memory_limit'), message: /cap of 2048m/ });
  t.throws(() => resolveLimits({ memory_limit: String(2048 * MIB + 1) }, policy()), denied('memory_limit'), 'one byte over');
  t.throws(() => resolveLimits({ memory_limit: '3g' }, policy()), denied('memory_limit'));
  t.throws(() => resolveLimits({ cpu_limit: 2.01 }, policy()), { ...denied('cpu_limit'), message: /cap of 2 CPUs/ });
  t.throws(() => resolveLimits({ pids_limit: 257 }, policy()), { ...denied('pids_limit'), message: /cap of 256/ });
  t.throws(() => resolveLimits({ timeout: 3600.5 }, policy()), { ...denied('timeout'), message: /cap of 3600 seconds/ });
});

t.test('every limit stays a limit after conversion: values that would round to none are refused naming the field', async (t) => {
  const invalid = (field: string, message: RegExp) => ({ code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field, message });
  for (const cpu of [0.0000001, 1e-10, 0.009, 0, -1]) {
    t.throws(() => resolveLimits({ cpu_limit: cpu }, policy()), invalid('cpu_limit', /at least 0\.01/), `cpu_limit ${cpu}`);
  }
  for (const timeout of [0.0000001, 0.0004, 0, -1]) {
    t.throws(() => resolveLimits({ timeout }, policy()), invalid('timeout', /at least 0\.001 seconds/), `timeout ${timeout}`);
  }
  t.equal(resolveLimits({ cpu_limit: 0.01 }, policy()).nanoCpus, 10_000_000);
  t.equal(resolveLimits({ timeout: 0.001 }, policy()).timeoutMs, 1, 'the smallest timeout is one millisecond');
  for (const pids of [0, 0.5, -1]) t.throws(() => resolveLimits({ pids_limit: pids }, policy()), invalid('pids_limit', /at least 1/), `pids_limit ${pids}`);
  const smallest = resolveLimits({ memory_limit: '6m', cpu_limit: 0.01, pids_limit: 1, timeout: 0.001 }, policy());
  for (const [name, value] of Object.entries(smallest)) if (typeof value === 'number') t.ok(value > 0, `${name} is a real limit (${value})`);
});

t.test('memory sizes are parsed, and less than 6 MiB is invalid input (400)', async (t) => {
  t.equal(resolveLimits({ memory_limit: '6m' }, policy()).memoryBytes, 6 * MIB);
  t.equal(resolveLimits({ memory_limit: '6144k' }, policy()).memoryBytes, 6 * MIB);
  t.equal(resolveLimits({ memory_limit: String(6 * MIB) }, policy()).memoryBytes, 6 * MIB);
  for (const small of ['5m', '6143k', String(6 * MIB - 1), '0', '0g']) {
    t.throws(() => resolveLimits({ memory_limit: small }, policy()), { code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field: 'memory_limit', message: /at least 6m/ }, small);
  }
  for (const bad of ['512mb', '1.5g', '-1m', '', 'm', '1 g', '1t']) {
    t.throws(() => resolveLimits({ memory_limit: bad }, policy()), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'memory_limit' }, JSON.stringify(bad));
  }
});

t.test('network: none by default; bridge only where the policy lists it; nothing else ever', async (t) => {
  t.equal(resolveLimits({ network_mode: 'none' }, policy()).networkMode, 'none');
  t.throws(() => resolveLimits({ network_mode: 'bridge' }, policy()), {
    code: 'SLIPWAY_ERR_POLICY_DENIED',
    statusCode: 403,
    field: 'network_mode',
    message: /allowed: none/,
  });
  const open = policy({ networkModes: ['none', 'bridge'] });
  t.equal(resolveLimits({ network_mode: 'bridge' }, open).networkMode, 'bridge');
  t.equal(resolveLimits({}, open).networkMode, 'none', 'bridge allowed is still not the default');
  // Even a policy that (wrongly) lists them cannot let host or container:* through.
  const wrong = policy({ networkModes: ['none', 'bridge', 'host', 'container:x'] });
  for (const mode of ['host', 'container:x', 'HOST', 'default', '']) {
    t.throws(() => resolveLimits({ network_mode: mode }, wrong), { code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field: 'network_mode' }, mode);
  }
});

t.test('read_only: false is refused unless the server allows a writable root', async (t) => {
  t.throws(() => resolveLimits({ read_only: false }, policy()), { code: 'SLIPWAY_ERR_POLICY_DENIED', statusCode: 403, field: 'read_only' });
  t.equal(resolveLimits({ read_only: true }, policy()).readOnlyRootfs, true);
  const writable = policy({ allowWritableRootfs: true });
  t.equal(resolveLimits({ read_only: false }, writable).readOnlyRootfs, false);
  t.equal(resolveLimits({}, writable).readOnlyRootfs, true, 'allowed is not the default');
});

t.test('the first offending field is the one named', async (t) => {
  t.throws(() => resolveLimits({ memory_limit: '4m', cpu_limit: 99 }, policy()), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'memory_limit' });
  t.throws(() => resolveLimits({ cpu_limit: 99, network_mode: 'bridge', read_only: false }, policy()), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'cpu_limit' });
});
