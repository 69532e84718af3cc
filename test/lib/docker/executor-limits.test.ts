// The executor against a fake Docker client whose engine keeps or drops limits: the
// refusal, the removal, and the one inspect per shape.
import t from 'tap';
import type Docker from 'dockerode';
import { pino } from 'pino';
import type { DockerClient } from '../../../lib/docker/docker-client.js';
import { errorMessage } from '../../../lib/docker/container-supervisor.js';
import { EngineIdentity, flavourOf } from '../../../lib/docker/engine-flavour.js';
import { Executor } from '../../../lib/docker/executor.js';
import type { RunSpec } from '../../../lib/runtime/container-runtime.js';

const PODMAN_VERSION = { Version: '4.3.1', Components: [{ Name: 'Podman Engine' }, { Name: 'Conmon' }] };

/** An engine that answers inspect with the create body, less whatever `drop` takes out. */
function fakeEngine(drop: (hostConfig: Docker.HostConfig) => Docker.HostConfig) {
  const calls: string[] = [];
  let created: Docker.ContainerCreateOptions | undefined;
  const container = { id: 'c1' } as Docker.Container;
  const client = {
    version: async () => PODMAN_VERSION,
    inspectImage: async () => ({ Config: {} }),
    createContainer: async (spec: Docker.ContainerCreateOptions) => {
      calls.push('create');
      created = spec;
      return container;
    },
    inspect: async () => {
      calls.push('inspect');
      return { HostConfig: drop(structuredClone(created!.HostConfig!)) };
    },
    attach: async () => {
      calls.push('attach');
      throw new Error('stop here: the test is about what happens before the process starts');
    },
    remove: async () => void calls.push('remove'),
    removeVolume: async () => void calls.push('remove volume'),
  } as unknown as DockerClient;
  return { client, calls };
}

const spec = (pidsLimit = 64): RunSpec => ({
  runId: 'r1',
  image: 'busybox',
  cmd: ['true'],
  labels: {},
  limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 5e8, pidsLimit, readOnlyRootfs: true, networkMode: 'none', timeoutMs: 10_000 },
});

const executorOn = (client: DockerClient) => new Executor(client, new EngineIdentity(client), { outputCapBytes: 1024, outputLimitBytes: 4096, stopGraceSeconds: 1 }, pino({ level: 'silent' }));

t.test('a container whose memory, CPU and pids limits the engine dropped is refused before it starts, and removed', async (t) => {
  const { client, calls } = fakeEngine((h) => ({ ...h, Memory: 0, MemorySwap: 0, NanoCpus: 0, PidsLimit: 0 }));
  await t.rejects(executorOn(client).run(spec()), {
    code: 'SLIPWAY_ERR_ENGINE_LIMITS',
    message: /^the Podman engine did not apply limits this run requires, so it was not started: memory \(asked 67108864, the engine reports 0\), memory\+swap .*, cpu \(asked 500000000, .*\), pids \(asked 64, the engine reports 0\)$/,
  });
  t.same(calls, ['create', 'inspect', 'remove'], 'never attached or started; removed');
});

t.test('a refused shape is checked (and refused) again on the next run', async (t) => {
  const { client, calls } = fakeEngine((h) => ({ ...h, SecurityOpt: [] }));
  const executor = executorOn(client);
  await t.rejects(executor.run(spec()), { code: 'SLIPWAY_ERR_ENGINE_LIMITS', message: /no-new-privileges/ });
  await t.rejects(executor.run(spec()), { code: 'SLIPWAY_ERR_ENGINE_LIMITS' });
  t.equal(calls.filter((c) => c === 'inspect').length, 2);
});

t.test('limits the engine kept are read back once per shape, then trusted', async (t) => {
  const { client, calls } = fakeEngine((h) => h);
  const executor = executorOn(client);
  for (const pids of [64, 64, 32]) await t.rejects(executor.run(spec(pids)), /stop here/);
  t.same(calls, ['create', 'inspect', 'attach', 'remove', 'create', 'attach', 'remove', 'create', 'inspect', 'attach', 'remove']);
});

t.test('Podman is told apart from Docker by the components it names', async (t) => {
  t.equal(flavourOf(PODMAN_VERSION), 'podman');
  t.equal(flavourOf({ Components: [{ Name: 'Engine' }, { Name: 'containerd' }] }), 'docker');
  t.equal(flavourOf({}), 'docker');
});

t.test('an unasked SIGKILL on an engine that cannot report OOM says memory may have been the cause', async (t) => {
  const s = { timeoutMs: 10_000, memoryBytes: 32 * 1024 * 1024 };
  t.equal(
    errorMessage('failed', undefined, 137, s, 4096, 'Podman'),
    'process was killed (exit code 137); Podman does not report out-of-memory kills, so exceeding the memory limit of 32 MiB may have been the cause',
  );
  t.equal(errorMessage('failed', undefined, 137, s, 4096), 'process exited with code 137', 'Docker, which would have said oom_killed');
  t.equal(errorMessage('failed', undefined, 1, s, 4096, 'Podman'), 'process exited with code 1');
});
