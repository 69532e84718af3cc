// The agent's volume is one per gateway process, shared read-only by its sandboxes (and
// payload runs): it lives while any container uses it, across a gateway restart too, and
// once everything is deleted and the gateway closed, nothing of it is left.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { inspectContainer } from '../fixtures/sandboxes.js';
import { LABEL_AGENT_DIGEST, LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED } from '../../lib/labels.js';

const INSTANCE = `${TEST_INSTANCE}-agent-volume`;
const dataDir = await mkdtemp(join(tmpdir(), 'slipway-agent-volume-'));
const env = { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: INSTANCE };

/** Everything of the instance on the engine: container ids and volume names. */
async function objectsOf(): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = { label: [`${LABEL_INSTANCE}=${INSTANCE}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return { containers: containers.map((c) => c.Id), volumes: (Volumes ?? []).map((v) => v.Name) };
}

let gw: Gateway | undefined;
t.teardown(async () => {
  await gw?.close();
  const { containers, volumes } = await objectsOf();
  for (const id of containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
  for (const name of volumes) await docker.getVolume(name).remove().catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
});

/** The volume mounted at /.slipway in the container, and whether the mount is writable. */
async function agentMount(containerId: string): Promise<{ name: string | undefined; rw: boolean | undefined }> {
  const mount = (await inspectContainer(containerId)).Mounts.find((m) => m.Destination === '/.slipway');
  return { name: mount?.Name, rw: mount?.RW };
}

t.test('two sandboxes share one read-only agent volume, which survives a restart while a sandbox uses it, and nothing is left once all is deleted and the gateway closed', async (t) => {
  gw = await startGateway(env);
  const create = async () => (await gw!.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' })).body;
  const [first, second] = await Promise.all([create(), create()]);
  const shared = await agentMount(first.container_id);
  t.ok(shared.name, 'the first sandbox mounts an agent volume');
  t.same(await agentMount(second.container_id), shared, 'the second mounts the very same one');
  t.equal(shared.rw, false, 'read-only');
  const volume = await docker.getVolume(shared.name!).inspect();
  t.match(volume.Labels, { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: INSTANCE, [LABEL_KIND]: 'agent', [LABEL_AGENT_DIGEST]: /^[0-9a-f]{64}$/ }, 'labelled, with the digest of the agent');

  for (const box of [first, second]) {
    const write = await gw.request('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['sh', '-c', 'echo x > /.slipway/busybox || echo x > /.slipway/new'] });
    t.not(write.body.exit_code, 0, 'the agent cannot be written from inside the sandbox');
    t.match(write.body.stderr, /read-only file system/i);
  }

  t.equal((await gw.request('DELETE', `/v1/sandboxes/${first.sandbox_id}`)).status, 200);
  await gw.close();
  gw = undefined;
  t.same((await objectsOf()).volumes, [shared.name], 'the gateway closed: the volume stays, the live sandbox uses it');

  gw = await startGateway(env);
  const exec = await gw.request('POST', `/v1/sandboxes/${second.sandbox_id}/exec`, { command: ['echo', 'still here'] });
  t.equal(exec.body.stdout, 'still here\n', 'after the restart, the sandbox runs commands with its agent');
  t.same((await objectsOf()).volumes, [shared.name], 'the restarted gateway kept the volume in use');
  const third = (await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' })).body;
  const own = await agentMount(third.container_id);
  t.not(own.name, shared.name, 'a new process fills a volume of its own, never one another process filled');
  t.equal(own.rw, false);

  for (const box of [second, third]) t.equal((await gw.request('DELETE', `/v1/sandboxes/${box.sandbox_id}`)).status, 200);
  await gw.close();
  gw = undefined;
  t.same(await objectsOf(), { containers: [], volumes: [] }, 'nothing of the instance is left');
});
