// The MCP client example of the README runs as written against a real gateway, and the
// README shows it verbatim.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';

const SCRIPT = fileURLToPath(new URL('../../examples/mcp-client.mjs', import.meta.url));
const DOCS = fileURLToPath(new URL('../../README.md', import.meta.url));

const gw = await startGateway();
t.teardown(() => gw.close());

function runExample(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('examples/mcp-client.mjs lists the tools and runs a container', async (t) => {
  const res = await runExample([`${gw.url}/mcp`, BUSYBOX_IMAGE, 'sh', '-c', 'echo hello from the example; echo done']);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /^tools: execute_docker_container, execute_with_payload, build_and_execute_github_repo, list_languages, list_runs, get_run, get_run_logs, cancel_run, list_running_containers, stop_container, pull_docker_image, get_server_info, create_sandbox, list_sandboxes, get_sandbox, delete_sandbox, extend_sandbox_ttl, sandbox_exec, sandbox_write_files, sandbox_read_file, sandbox_list_files\n/);
  t.match(res.stdout, /status: succeeded, exit code 0/);
  t.match(res.stdout, /stdout:\nhello from the example\ndone\n/);
  const json = JSON.parse(res.stdout.slice(res.stdout.indexOf('\n{')));
  t.match(json, { success: true, exit_code: 0, stdout: 'hello from the example\ndone\n', image: BUSYBOX_IMAGE });
  t.match(res.stderr, /progress: status: running/, 'progress went to stderr');
});

t.test('a failing command makes the example exit non-zero', async (t) => {
  const res = await runExample([`${gw.url}/mcp`, BUSYBOX_IMAGE, 'sh', '-c', 'exit 4']);
  t.equal(res.code, 1);
  t.match(res.stdout, /status: failed, exit code 4/);
});

t.test('the README shows the script verbatim', async (t) => {
  const [script, docs] = await Promise.all([readFile(SCRIPT, 'utf8'), readFile(DOCS, 'utf8')]);
  t.ok(docs.includes(`\`\`\`js\n${script}\`\`\``), 'the script appears as a js block');
  t.match(docs, /http:\/\/127\.0\.0\.1:8080\/mcp/);
});
