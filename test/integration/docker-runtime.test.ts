// The Docker backend's side of the seam on the real engine: the calls a run does not
// exercise (list, inspect, stop, remove, files in and out of a live container, run
// storage, watching for removal), each checked against the engine's own view.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import t from 'tap';
import { extract } from 'tar-stream';
import type { Readable } from 'node:stream';
import { LABEL_INSTANCE, LABEL_RUN_ID, ownedLabels, runLabels } from '../../lib/labels.js';
import { createRuntime } from '../../lib/runtime/create-runtime.js';
import { DEFAULT_SOCKET } from '../../server/engine-provisioner.js';
import { docker, dockerSocketPath, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { waitFor } from '../fixtures/wait.js';

const INSTANCE = `${TEST_INSTANCE}-runtime`;
const runtime = createRuntime(
  { backend: 'docker', docker: { socketPath: dockerSocketPath() ?? DEFAULT_SOCKET }, outputCapBytes: 1024 * 1024, outputLimitBytes: 4 * 1024 * 1024, stopGraceSeconds: 1 },
  pino({ level: process.env.SLIPWAY_TEST_LOG_LEVEL ?? 'silent' }),
);

async function sleeper(runId: string, instance = INSTANCE): Promise<string> {
  const container = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '60'], Labels: runLabels(instance, runId, 'image'), HostConfig: { NetworkMode: 'none' } });
  await container.start();
  return container.id;
}

/** The files of a tar stream, by name. */
async function untar(stream: Readable): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const reader = extract();
  stream.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') files[entry.header.name] = Buffer.concat(chunks).toString('utf8');
  }
  return files;
}

/** What `cat path` prints inside the container, through the engine's own exec. */
async function catInside(id: string, path: string): Promise<string> {
  const exec = await docker.getContainer(id).exec({ Cmd: ['cat', path], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).subarray(8).toString('utf8'); // one frame: skip its 8-byte header
}

t.test('the backend names itself and its engine version, and reports images as the engine has them', async (t) => {
  t.match(await runtime.version(), { backend: 'docker', version: /^\d+\./ });
  const info = await runtime.imageInfo(BUSYBOX_IMAGE);
  t.equal(info?.id, (await docker.getImage(BUSYBOX_IMAGE).inspect()).Id);
  t.equal(await runtime.imageInfo('slipway-no-such-image:1'), null);
});

t.test('a live container is listed by label, inspected, given files, read back, stopped and removed', async (t) => {
  const runId = randomUUID();
  const id = await sleeper(runId);
  const other = await sleeper(randomUUID(), `${INSTANCE}-other`);
  t.teardown(() => docker.getContainer(other).remove({ force: true }));

  const listed = await runtime.list(ownedLabels(INSTANCE));
  t.match(listed, [{ id, state: 'running', image: BUSYBOX_IMAGE, labels: { [LABEL_RUN_ID]: runId } }], 'only this instance\'s container');
  t.strictSame((await runtime.list(ownedLabels(INSTANCE), { state: 'exited' })).map((c) => c.id), [], 'the state filter applies');
  t.match(await runtime.inspect(id), { id, running: true, labels: { [LABEL_INSTANCE]: INSTANCE } });

  await runtime.putFiles(id, '/tmp', [{ path: 'in/a.txt', content: Buffer.from('alpha'), mode: 0o644 }]);
  t.equal(await catInside(id, '/tmp/in/a.txt'), 'alpha', 'the engine sees the file inside the container');
  t.strictSame(await untar(await runtime.getFiles(id, '/tmp/in')), { 'in/a.txt': 'alpha' }, 'and the backend reads it back as a tar');

  t.equal(await runtime.stop(id, 0), true, 'it was running');
  t.equal(await runtime.stop(id, 0), false, 'a stopped container is not an error');
  t.equal((await docker.getContainer(id).inspect()).State.Running, false);
  await runtime.remove(id);
  await t.rejects(docker.getContainer(id).inspect(), { message: /no such container/i }, 'the engine no longer has it');
  await t.rejects(runtime.inspect(id), { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND', statusCode: 404 });
});

t.test('watching for removal reports this instance\'s containers as anyone removes them', async (t) => {
  const removed: string[] = [];
  const watch = new AbortController();
  t.teardown(() => watch.abort());
  await runtime.watchRemoval(ownedLabels(INSTANCE), (id) => removed.push(id), watch.signal);
  const ours = await sleeper(randomUUID());
  const theirs = await sleeper(randomUUID(), `${INSTANCE}-other`);
  await docker.getContainer(theirs).remove({ force: true });
  await docker.getContainer(ours).remove({ force: true });
  await waitFor(() => removed.includes(ours), { what: 'the removal event' });
  t.strictSame(removed, [ours], 'only the watched labels are reported');
});

t.test('run storage of no kept run is pruned; a kept run\'s stays', async (t) => {
  const kept = randomUUID();
  const stray = randomUUID();
  for (const runId of [kept, stray]) await docker.createVolume({ Name: `slipway-${runId}`, Labels: runLabels(INSTANCE, runId, 'payload') });
  t.teardown(() => docker.getVolume(`slipway-${kept}`).remove().catch(() => undefined));
  t.strictSame(await runtime.pruneRunStorage(ownedLabels(INSTANCE), new Set([kept])), [`slipway-${stray}`]);
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
  t.strictSame((Volumes ?? []).map((v) => v.Name), [`slipway-${kept}`]);
});
