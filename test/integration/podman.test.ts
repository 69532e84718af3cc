// The Docker backend, unchanged, against rootful Podman's Docker-compatible API: a gateway
// with DOCKER_HOST at the Podman socket runs the core behaviours, checked through
// Podman's own view. Not the whole suite a second time (CI time): the operations a
// hardened runner uses, plus what differs on Podman (no OOM report, event names).
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { spawnGateway, type GatewayProcess } from '../fixtures/gateway-process.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { ensurePodman, PODMAN_HOST, podman, podmanLeftovers, removePodmanLeftovers } from '../fixtures/podman.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { LABEL_INSTANCE, LABEL_RUN_ID } from '../../lib/labels.js';

const unavailable = await ensurePodman();
if (unavailable) {
  t.plan(0, `Podman is not available here: ${unavailable}`);
} else {
  await podmanTests();
}

/** Polls Podman (bounded) until the instance has a running container. */
async function runningIn(instance: string) {
  for (let i = 0; i < 150; i++) {
    const [first] = await podman.listContainers({ filters: { label: [`${LABEL_INSTANCE}=${instance}`], status: ['running'] } });
    if (first) return first;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no running container of ${instance} in Podman`);
}

async function podmanTests(): Promise<void> {
  const gw: Gateway = await startGateway({ DOCKER_HOST: PODMAN_HOST });
  t.teardown(() => gw.close());
  const sh = (script: string, more: Record<string, unknown> = {}) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', script], ...more });

  t.test('an image run is hardened as Podman itself reports it, and is listed and stopped by label', async (t) => {
    const probe = 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ls /sys/class/net | tr "\\n" " "; echo; touch /x 2>/dev/null || echo read-only; sleep 30';
    const pending = gw.request('POST', '/v1/containers/run', sh(probe, { memory_limit: '64m', cpu_limit: 0.5, pids_limit: 50, timeout: 60 }));
    const running = await runningIn(gw.instance);
    const h = (await podman.getContainer(running.Id).inspect()).HostConfig as Record<string, any>;
    t.equal(h.ReadonlyRootfs, true, 'read-only root');
    t.same(h.CapAdd ?? [], [], 'nothing added back');
    t.ok(['CHOWN', 'DAC_OVERRIDE', 'KILL', 'NET_RAW', 'SETUID', 'SETGID', 'SYS_CHROOT'].every((c) => h.CapDrop.includes(c)), `capabilities dropped: ${h.CapDrop}`);
    t.ok(h.SecurityOpt.includes('no-new-privileges'), 'no-new-privileges');
    t.equal(h.PidsLimit, 50);
    t.equal(h.Memory, 64 * 1024 * 1024);
    t.equal(h.MemorySwap, 64 * 1024 * 1024, 'no swap on top');
    t.equal(h.NanoCpus, 0.5e9);
    t.equal(h.NetworkMode, 'none');
    t.equal(h.Init, true, 'init (catatonit)');

    const listed = (await gw.request('GET', '/v1/containers?state=running')).body.containers;
    t.match(listed, [{ id: running.Id, run_id: running.Labels[LABEL_RUN_ID] }], 'listed by label through Podman');
    const stopped = await gw.request('POST', `/v1/containers/${running.Id}/stop`, { timeout: 0 });
    t.match(stopped.body, { success: true, was_running: true, run_id: running.Labels[LABEL_RUN_ID] });
    const done = (await pending).body;
    t.match(done, { status: 'cancelled' });
    t.match(done.stdout, /CapEff:\s+0000000000000000\nCapBnd:\s+0000000000000000\nNoNewPrivs:\s+1\nlo \nread-only\n/, 'inside: no capabilities, no new privileges, only lo, read-only');
  });

  t.test('a payload run with files and stdin writes next to its files and hands one back (the workspace tmpfs, sticky and world-writable on Podman, takes the run user\'s files)', async (t) => {
    const res = await gw.request('POST', '/v1/payloads/run', {
      language: 'sh',
      return_files: ['out.txt'],
      files: [
        { path: 'main.sh', content: 'read line; echo "stdin: $line"; . ./lib/greet.sh; cat data.txt; pwd; echo "$line" > out.txt' },
        { path: 'lib/greet.sh', content: 'echo hello from lib' },
        { path: 'data.txt', content: 'data ok\n' },
      ],
      stdin: 'from the caller\n',
    });
    t.match(res.body, { status: 'succeeded', exit_code: 0, stdout: 'stdin: from the caller\nhello from lib\ndata ok\n/workspace\n' });
    t.match(res.body.files, [{ path: 'out.txt', encoding: 'utf8', content: 'from the caller\n' }]);
  });

  t.test('a run past its timeout ends timed_out', async (t) => {
    const res = await gw.request('POST', '/v1/containers/run', sh('echo started; sleep 30', { timeout: 1 }));
    t.match(res.body, { status: 'timed_out', stdout: 'started\n', error_message: /timeout of 1s/ });
  });

  t.test('a cancelled run ends cancelled', async (t) => {
    const runId = (await gw.request('POST', '/v1/containers/run', sh('sleep 30', { wait: false }))).body.run_id;
    await pollUntilRunning(gw, runId);
    t.equal((await gw.request('DELETE', `/v1/runs/${runId}`)).status, 200);
    t.match(await pollUntilFinal(gw, runId), { status: 'cancelled' });
  });

  t.test('a memory blow-up is failed with exit 137 and says memory may have been the cause (Podman reports no OOM)', async (t) => {
    const res = await gw.request('POST', '/v1/containers/run', sh('x=aaaaaaaa; while true; do x=$x$x; done', { memory_limit: '16m', timeout: 60 }));
    t.match(res.body, {
      status: 'failed',
      exit_code: 137,
      error_message: 'process was killed (exit code 137); Podman does not report out-of-memory kills, so exceeding the memory limit of 16 MiB may have been the cause',
    });
  });

  t.test('kill -9 mid-run, then restart: the run on Podman is followed to its end and recorded', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'slipway-podman-restart-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const env = { DOCKER_HOST: PODMAN_HOST, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: `${TEST_INSTANCE}-podman-restart` };
    const client = (p: GatewayProcess) => ({
      async request(method: string, path: string, body?: unknown) {
        const res = await fetch(p.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
        return { status: res.status, body: (await res.json()) as any };
      },
    });
    const first = await spawnGateway(env);
    t.teardown(() => first.kill('SIGKILL'));
    const runId = (await client(first).request('POST', '/v1/containers/run', sh('for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done', { wait: false }))).body.run_id;
    await pollUntilRunning(client(first), runId);
    await new Promise((r) => setTimeout(r, 700));
    await first.kill('SIGKILL');

    const second = await spawnGateway(env);
    t.teardown(() => second.kill('SIGKILL'));
    const final = await pollUntilFinal(client(second), runId);
    t.match(final, { status: 'succeeded', exit_code: 0, stdout: [1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join('') });
    await second.kill('SIGTERM');
  });

  t.test('nothing labelled by this run is left in Podman', async (t) => {
    await gw.close();
    const leaked = await podmanLeftovers();
    if (leaked.length > 0) await removePodmanLeftovers();
    t.same(leaked, []);
  });
}
