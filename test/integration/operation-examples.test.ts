// Every operation's documented example (what /docs offers under "Try it out") runs
// against a real gateway and engine: only the public image names, the repository URL
// and the ids of runs and containers are swapped for the suite's local ones, as the
// README examples test does.
import t, { type Test } from 'tap';
import { OPERATIONS } from '../../operations/index.js';
import type { Operation } from '../../operations/operation.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { exampleOf, openApiPath, restRequestOf } from '../fixtures/operations.js';
import { PULL_IMAGE } from '../fixtures/registry.js';
import { pruneTestBuilds, startRepoFixture } from '../fixtures/repo-builds.js';
import { pollUntilRunning } from '../fixtures/runs.js';
import { removeSandboxesOf } from '../fixtures/sandboxes.js';

const fx = await startRepoFixture();
const gw = await startGateway({ SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort, SLIPWAY_GIT_WORK_DIR: fx.workDir });
t.teardown(async () => {
  await gw.close();
  await removeSandboxesOf(gw.instance);
  await pruneTestBuilds(gw.instance);
  await fx.close();
});
const openapi = (await gw.request('GET', '/openapi.json')).body;

/** The example with the suite's local images, repository and live ids in place of the public ones. */
function localised(op: Operation, ids: { run_id?: string; container_id?: string; sandbox_id?: string }): Record<string, unknown> {
  const example = exampleOf(op);
  const swaps: Record<string, string> = { 'python:3.12-slim': PYTHON_IMAGE, 'busybox:1.36': PULL_IMAGE, 'https://github.com/you/your-app.git': fx.url('app.git') };
  for (const [key, value] of Object.entries(example)) if (typeof value === 'string' && swaps[value]) example[key] = swaps[value];
  for (const key of ['run_id', 'container_id', 'sandbox_id'] as const) if (key in example) example[key] = ids[key];
  return example;
}

/** A run that sleeps until stopped, running, with its container. */
async function sleeper(): Promise<{ run_id: string; container_id: string }> {
  const started = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sleep', '60'], wait: false });
  const running = await pollUntilRunning(gw, started.body.run_id);
  return { run_id: running.run_id, container_id: running.container_id };
}

/** A live sandbox with the file the read example names; deleted after the test. */
async function sandbox(t: Test): Promise<{ sandbox_id: string }> {
  const created = await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' });
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  const id = created.body.sandbox_id as string;
  t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${id}`));
  await gw.request('POST', `/v1/sandboxes/${id}/files`, { files: [{ path: 'note.txt', content: 'hello\n' }] });
  return { sandbox_id: id };
}

const finished = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'done'] });

/** What each operation's example must answer, given a live run where it needs one. */
const expectations: Record<string, { needs?: 'finished' | 'running' | 'sandbox'; answer: Record<string, unknown> }> = {
  run_image: { answer: { success: true, stdout: '4\n', status: 'succeeded' } },
  run_payload: { answer: { success: true, stdout: 'hello from a payload\n' } },
  run_repo: { answer: { status: 'succeeded', exit_code: 0 } },
  list_languages: { answer: { languages: Array } },
  list_runs: { answer: { runs: [{ status: 'succeeded' }] } },
  get_run: { needs: 'finished', answer: { status: 'succeeded' } },
  get_run_logs: { needs: 'finished', answer: { complete: true } },
  cancel_run: { needs: 'running', answer: { status: 'cancelled' } },
  list_containers: { answer: { containers: [] } },
  stop_container: { needs: 'running', answer: { success: true, was_running: true } },
  pull_image: { answer: { success: true, image: PULL_IMAGE } },
  get_server_info: { answer: { caller: { name: null, sees_all: true }, engine: { reachable: true }, policy: { caps: { cpus: Number } } } },
  create_sandbox: { answer: { state: 'running', image: PYTHON_IMAGE, labels: { task: 'data-cleanup' } } },
  list_sandboxes: { answer: { sandboxes: Array } },
  get_sandbox: { needs: 'sandbox', answer: { state: 'running' } },
  delete_sandbox: { needs: 'sandbox', answer: { deleted: true } },
  extend_sandbox_ttl: { needs: 'sandbox', answer: { state: 'running' } },
  sandbox_exec: { needs: 'sandbox', answer: { status: 'succeeded', stdout: 'hello\n' } },
  sandbox_write_files: { needs: 'sandbox', answer: { written: [{ path: '/workspace/data/input.csv' }] } },
  sandbox_read_file: { needs: 'sandbox', answer: { content: 'hello\n', encoding: 'utf8' } },
  sandbox_list_files: { needs: 'sandbox', answer: { entries: [{ name: 'note.txt', type: 'file' }] } },
};

t.test('every operation has an example this test knows', async (t) => {
  t.same(OPERATIONS.map((op) => op.name).sort(), Object.keys(expectations).sort());
});

for (const op of OPERATIONS) {
  t.test(`the example of ${op.name} runs as /docs offers it`, async (t) => {
    const expected = expectations[op.name]!;
    const ids = expected.needs === 'running' ? await sleeper() : expected.needs === 'sandbox' ? await sandbox(t) : { run_id: finished.body.run_id };
    const request = restRequestOf(op, localised(op, ids));
    const res = await gw.request(request.method, request.path, request.body);
    t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    t.match(res.body, expected.answer);
    if (op.rest.rest === 'body') {
      const shown = openapi.paths[openApiPath(op.rest.path)][op.rest.method.toLowerCase()].requestBody.content['application/json'].example;
      const { [op.rest.params?.[0] ?? '']: _path, ...body } = exampleOf(op);
      t.same(shown, body, '/docs shows this example as the request body');
      t.notOk(['working_dir', 'user', 'idempotency_key'].some((key) => key in body), 'no generated filler fields');
    }
  });
}
