// The Swarm backend's pure parts: the hardened job spec, the limits read-back and the
// payload bound, without a Swarm (the real one is test/integration/swarm.test.ts).
import t from 'tap';
import { droppedSettings } from '../../../lib/swarm/limits-readback.js';
import { checkPayload, MAX_SWARM_PAYLOAD_BYTES } from '../../../lib/swarm/payload-configs.js';
import { buildServiceSpec } from '../../../lib/swarm/service-spec.js';
import type { RunSpec } from '../../../lib/runtime/container-runtime.js';

const limits = { memoryBytes: 64 * 1024 * 1024, nanoCpus: 5e8, pidsLimit: 32, timeoutMs: 10_000, networkMode: 'none' as const, readOnlyRootfs: true };
const run: RunSpec = { runId: 'r1', image: 'busybox:1', cmd: ['echo', 'hi'], entrypoint: ['sh', '-c'], user: '65534', workingDir: '/w', labels: { 'io.slipway.run-id': 'r1' }, limits, placement: ['node.labels.pool==batch'] };

t.test('a run is a labelled one-shot job with every per-service hardening setting and no network', async (t) => {
  const spec = buildServiceSpec(run, [{ id: 'c1', name: 'slipway-r1-0', target: '/w/main.sh', mode: 0o644 }], 3) as any;
  t.match(spec, {
    Name: 'slipway-r1',
    Labels: { 'io.slipway.run-id': 'r1' },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox:1', Command: ['sh', '-c'], Args: ['echo', 'hi'], User: '65534', Dir: '/w', ReadOnly: true, CapabilityDrop: ['ALL'], Init: true, StopGracePeriod: 3e9, Labels: { 'io.slipway.run-id': 'r1' } },
      Resources: { Limits: { MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 5e8, Pids: 32 } },
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: ['node.labels.pool==batch'] },
      Networks: [],
    },
  });
  t.strictSame(spec.TaskTemplate.ContainerSpec.Configs, [{ ConfigID: 'c1', ConfigName: 'slipway-r1-0', File: { Name: '/w/main.sh', UID: '0', GID: '0', Mode: 0o644 } }], 'payload files as root-owned configs');
  t.same(spec.TaskTemplate.ContainerSpec.Ulimits.map((u: any) => u.Name), ['nofile', 'nproc', 'fsize']);
});

t.test('the read-back names every limit the engine did not keep', async (t) => {
  const asked = buildServiceSpec(run, [], 3);
  t.strictSame(droppedSettings(asked, asked), [], 'all kept');
  const stored = JSON.parse(JSON.stringify(asked));
  delete stored.TaskTemplate.Resources.Limits.Pids;
  stored.TaskTemplate.ContainerSpec.CapabilityDrop = [];
  t.strictSame(droppedSettings(asked, stored), ['pids: asked 32, engine has none', 'capability drop: asked ["ALL"], engine has []']);
});

t.test('payload files at or over the configs bound are refused naming files; a packed tar is a build, refused', async (t) => {
  const file = (bytes: number) => ({ path: 'a', content: Buffer.alloc(bytes), mode: 0o644 });
  t.doesNotThrow(() => checkPayload({ dir: '/w', entries: [file(MAX_SWARM_PAYLOAD_BYTES - 1)] }, 'swarm'));
  t.throws(() => checkPayload({ dir: '/w', entries: [file(600_000), { ...file(400_000), path: 'b' }] }, 'swarm'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'files', message: /1000000 bytes/ });
  t.throws(() => checkPayload({ dir: '/w', tar: Buffer.alloc(1) }, 'swarm'), { code: 'SLIPWAY_ERR_UNSUPPORTED' });
});
