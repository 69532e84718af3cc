// Volume listing by several labels means volumes carrying all of them, on every engine:
// Podman 4.3 answers such a filter with the volumes matching any one label, which would
// have a sandbox's removal take another sandbox's volume (found running the suite on Podman).
import t from 'tap';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { DockerClient, hasLabels } from '../../../lib/docker/docker-client.js';

const volume = (name: string, labels: Record<string, string>) => ({ Name: name, Labels: labels }) as unknown as Docker.VolumeInspectInfo;

t.test('a volume list keeps only the volumes carrying every label of the filter, whatever the engine answered', async (t) => {
  // What Podman 4.3 answers for label=[instance=i, sandbox-id=a]: both sandboxes' volumes.
  const engine = { listVolumes: async () => ({ Volumes: [volume('a', { instance: 'i', 'sandbox-id': 'a' }), volume('b', { instance: 'i', 'sandbox-id': 'b' })] }) } as unknown as Docker;
  const client = new DockerClient(engine, pino({ level: 'silent' }));
  t.same((await client.listVolumes({ label: ['instance=i', 'sandbox-id=a'] })).map((v) => v.Name), ['a']);
});

t.test('a label filter entry is a key that must be present, or key=value that must match', async (t) => {
  t.ok(hasLabels({ a: '1', b: '' }, ['a=1', 'b']));
  t.ok(hasLabels({ a: 'x=y' }, ['a=x=y']), 'a value may hold =');
  t.notOk(hasLabels({ a: '1' }, ['a=2']));
  t.notOk(hasLabels({ a: '1' }, ['b']));
  t.notOk(hasLabels(null, ['a']));
  t.ok(hasLabels(undefined, []), 'no filter keeps everything');
});
