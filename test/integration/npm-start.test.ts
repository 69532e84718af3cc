// `npm start` as an operator runs it: one readable start-up line, and SIGTERM to npm
// (a service manager) or Ctrl-C (SIGINT to the terminal's whole process group) closes
// the gateway itself gracefully, leaving no node process and no open port behind.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { spawnGateway } from '../fixtures/gateway-process.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { eventually } from '../fixtures/mcp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

interface Started {
  npm: ChildProcess;
  port: number;
  /** The gateway's own process (npm's child), from the pid on its log lines. */
  serverPid: number;
  lines: string[];
}

/** `npm start` in a process group of its own (as a terminal would run it), until the start-up line. */
async function npmStart(t: Test): Promise<Started> {
  const port = await freePort();
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      SLIPWAY_DATA_DIR: t.testdir(),
      SLIPWAY_INSTANCE: `${TEST_INSTANCE}-npm-${randomBytes(3).toString('hex')}`,
      SLIPWAY_PROVISION_ENGINE: 'false',
      SLIPWAY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: npm.stderr! }).on('line', (line) => lines.push(line));
  const started = await new Promise<{ pid: number }>((resolve, reject) => {
    // A stale dist/ is compiled first (scripts/prepare.mjs): that takes a while on a busy machine.
    const timer = setTimeout(() => reject(new Error(`npm start did not come up: ${lines.join('\n')}`)), 240_000);
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${lines.join('\n')}`)));
    createInterface({ input: npm.stdout! }).on('line', (line) => {
      lines.push(line);
      if (!line.includes('Slipway listening on')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { pid: number });
    });
  });
  t.teardown(() => {
    if (alive(started.pid)) process.kill(started.pid, 'SIGKILL');
  });
  return { npm, port, serverPid: started.pid, lines };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

t.test('start-up says in one line where the gateway listens, its mode, engine, instance, data and doors', async (t) => {
  const s = await npmStart(t);
  t.teardown(() => s.npm.kill('SIGTERM'));
  const line = JSON.parse(s.lines.find((l) => l.includes('Slipway listening on'))!);
  t.match(line.msg, new RegExp(`^Slipway listening on http://127\\.0\\.0\\.1:${s.port}, open mode \\(no tokens\\), backend docker \\d+\\.\\d+`));
  t.match(line.msg, /instance slipway-test.*-npm-[0-9a-f]{6}, data \/.+; dashboard http:\/\/127\.0\.0\.1:\d+\/ui, API docs http:\/\/127\.0\.0\.1:\d+\/docs, MCP http:\/\/127\.0\.0\.1:\d+\/mcp/);
  t.equal((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status, 200);
});

t.test('SIGTERM to the npm process closes the gateway gracefully: its node process ends and the port closes', async (t) => {
  const s = await npmStart(t);
  t.not(s.serverPid, s.npm.pid, 'the gateway runs in a process of its own under npm');
  s.npm.kill('SIGTERM');
  t.equal(await exited(s.npm), 0, 'the gateway closed cleanly (npm exits with its code)');
  t.ok(await eventually(() => !alive(s.serverPid), 20_000), 'the gateway process is gone');
  t.notOk(await portOpen(s.port), 'nothing listens on the port');
  t.ok(s.lines.some((l) => l.includes('"signal":"SIGTERM"') && l.includes('"msg":"closing"')), 'it closed on the signal');
});

t.test('Ctrl-C (SIGINT to the process group) closes the gateway gracefully, not as a second signal', async (t) => {
  const s = await npmStart(t);
  // The terminal signals every process of the group; npm forwards its copy as well.
  process.kill(-s.npm.pid!, 'SIGINT');
  t.equal(await exited(s.npm), 0, 'the gateway closed cleanly (npm exits with its code)');
  t.ok(await eventually(() => !alive(s.serverPid), 20_000), 'the gateway process is gone');
  t.notOk(await portOpen(s.port), 'nothing listens on the port');
  t.ok(s.lines.some((l) => l.includes('"msg":"closing"')), 'it closed on the signal');
  t.notOk(s.lines.some((l) => /second (signal|SIGINT)/.test(l)), 'npm\'s forwarded copy is not taken for an impatient second Ctrl-C');
});

t.test('a repeated SIGINT within a second (npm\'s copy of a Ctrl-C) does not cut a slow close short', async (t) => {
  const gw = await spawnGateway({ SLIPWAY_DATA_DIR: t.testdir(), SLIPWAY_INSTANCE: `${TEST_INSTANCE}-echo-${randomBytes(3).toString('hex')}`, SLIPWAY_STOP_GRACE_SECONDS: '2' });
  t.teardown(() => gw.kill('SIGKILL'));
  // A run whose process ignores SIGTERM: closing waits the stop grace for it.
  const res = await fetch(`${gw.url}/v1/containers/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: BUSYBOX_IMAGE, command: ['sh', '-c', 'trap "" TERM; sleep 30'], wait: false }),
  });
  const { run_id: runId } = (await res.json()) as { run_id: string };
  t.ok(await eventually(async () => ((await (await fetch(`${gw.url}/v1/runs/${runId}`)).json()) as { status: string }).status === 'running'));
  gw.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  gw.child.kill('SIGINT');
  const code = await exited(gw.child);
  t.equal(code, 0, `closed cleanly: ${gw.output.slice(-3).join('\n')}`);
  t.notOk(gw.output.some((l) => /second (signal|SIGINT)/.test(l)));
});
