// The shared agent volume's bookkeeping, on a stub engine: one fill however many first uses
// arrive together, a failed fill never kept, in-use volumes kept without an error.
import t from 'tap';
import { pino } from 'pino';
import { AgentVolumes } from '../../../lib/docker/agent-volume.js';
import type { DockerClient } from '../../../lib/docker/docker-client.js';
import { SlipwayError } from '../../../lib/errors.js';
import { LABEL_INSTANCE, LABEL_KIND } from '../../../lib/labels.js';
import type { SandboxSpec } from '../../../lib/runtime/container-runtime.js';

const files = [{ path: 'busybox', content: Buffer.from('agent'), mode: 0o755 }];

function spec(instance = 'i1'): SandboxSpec {
  return {
    sandboxId: 's', image: 'img', workingDir: '/workspace', user: '1:1', labels: { [LABEL_INSTANCE]: instance }, limits: {} as SandboxSpec['limits'],
    keepAlive: ['/.slipway/busybox'], keepAliveUser: '2:2', workspace: { dir: '/workspace', sizeBytes: 1 }, agent: { dir: '/.slipway', files },
  };
}

/** An engine holding volumes by name; `inUse` ones refuse removal as the engine does (409). */
function stubEngine(options: { failPuts?: number } = {}) {
  const volumes = new Map<string, Record<string, string>>();
  const inUse = new Set<string>();
  let failPuts = options.failPuts ?? 0;
  const calls = { createVolume: 0, putArchive: 0 };
  const client = {
    async createVolume(name: string, labels: Record<string, string>) {
      calls.createVolume++;
      volumes.set(name, labels);
    },
    async createContainer() {
      return { id: 'loader' };
    },
    async putArchive() {
      calls.putArchive++;
      await new Promise((r) => setTimeout(r, 5));
      if (failPuts-- > 0) throw new SlipwayError('SLIPWAY_ERR_ENGINE', 'engine error: put failed');
    },
    async remove() {},
    async removeVolume(name: string) {
      if (inUse.has(name)) throw new SlipwayError('SLIPWAY_ERR_CONFLICT', 'volume is in use');
      if (!volumes.delete(name)) throw new SlipwayError('SLIPWAY_ERR_ENGINE', 'no such volume', { cause: { statusCode: 404 } });
    },
    async listVolumes(filters: { label: string[] }) {
      return [...volumes].filter(([, labels]) => filters.label.every((f) => labels[f.split('=')[0]!] === f.split('=')[1])).map(([Name, Labels]) => ({ Name, Labels }));
    },
  };
  return { volumes, inUse, calls, client: client as unknown as DockerClient };
}

const log = pino({ level: 'silent' });

t.test('concurrent first uses share one fill, and later uses reuse its volume', async (t) => {
  const engine = stubEngine();
  const agent = new AgentVolumes(engine.client, log);
  const names = await Promise.all([agent.ensure(spec()), agent.ensure(spec()), agent.ensure(spec())]);
  t.equal(new Set(names).size, 1);
  t.equal(await agent.ensure(spec()), names[0]);
  t.same(engine.calls, { createVolume: 1, putArchive: 1 });
  t.match(engine.volumes.get(names[0]!), { [LABEL_INSTANCE]: 'i1', [LABEL_KIND]: 'agent' });
});

t.test('a failed fill is removed and not cached: the next use fills a new volume', async (t) => {
  const engine = stubEngine({ failPuts: 1 });
  const agent = new AgentVolumes(engine.client, log);
  await t.rejects(agent.ensure(spec()), { message: /put failed/ });
  t.same([...engine.volumes.keys()], [], 'the half-filled volume is gone');
  const name = await agent.ensure(spec());
  t.same([...engine.volumes.keys()], [name]);
  t.equal(engine.calls.createVolume, 2);
});

t.test('a use that joined a fill which failed fills again itself', async (t) => {
  const engine = stubEngine({ failPuts: 1 });
  const agent = new AgentVolumes(engine.client, log);
  const [first, second] = await Promise.allSettled([agent.ensure(spec()), agent.ensure(spec())]);
  t.equal(first.status, 'rejected');
  t.equal(second.status, 'fulfilled');
});

t.test('pruning keeps the current volume and those in use, removes the rest; close removes the current one when unused', async (t) => {
  const engine = stubEngine();
  const agent = new AgentVolumes(engine.client, log);
  const labels = { [LABEL_INSTANCE]: 'i1', [LABEL_KIND]: 'agent' };
  engine.volumes.set('older-unused', labels);
  engine.volumes.set('older-in-use', labels);
  engine.volumes.set('other-instance', { [LABEL_INSTANCE]: 'i2', [LABEL_KIND]: 'agent' });
  engine.inUse.add('older-in-use');
  const current = await agent.ensure(spec());
  t.same(await agent.prune({ [LABEL_INSTANCE]: 'i1' }), ['older-unused']);
  t.same([...engine.volumes.keys()].sort(), ['older-in-use', 'other-instance', current].sort());
  t.same(await agent.release({ [LABEL_INSTANCE]: 'i1' }), [current], 'in use is kept, not an error');
  t.same([...engine.volumes.keys()].sort(), ['older-in-use', 'other-instance']);
  t.not(await agent.ensure(spec()), current, 'a use after close fills a new one');
});

t.test('a changed agent is never served from a volume filled with the old one', async (t) => {
  const engine = stubEngine();
  const agent = new AgentVolumes(engine.client, log);
  const before = await agent.ensure(spec());
  const changed = { ...spec(), agent: { dir: '/.slipway', files: [{ ...files[0]!, content: Buffer.from('agent v2') }] } };
  t.not(await agent.ensure(changed), before);
});
