// `npm start`'s process (server/main.ts) when things are wrong at start-up: no engine
// and no way to provision one, or a bad setting. It must exit non-zero and say why.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function startMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

t.test('no engine and provisioning off: exits non-zero, saying how to get one', async (t) => {
  const { code, output } = await startMain({ DOCKER_HOST: 'unix:///tmp/slipway-startup-no-engine.sock', SLIPWAY_PROVISION_ENGINE: 'false' });
  t.equal(code, 1);
  t.match(output, /No Docker engine answered at \/tmp\/slipway-startup-no-engine\.sock/);
  t.match(output, /DOCKER_HOST/, 'names the setting');
});

/** What start-up printed, as lines: a bad setting must be one line, no pino JSON, no stack trace. */
const linesOf = (output: string): string[] => output.trim().split('\n');

// One process for the path every bad setting takes (loadConfig throws, main.ts prints the
// message as one line and exits 1). The messages for each kind of bad setting (malformed
// integers, unknown log levels, a new language without its command, bad MCP host entries)
// are checked in-process against loadConfig by test/server/config.test.ts, without a
// process each.
t.test('a bad setting: exits non-zero with one readable line naming the setting, the value and what is accepted', async (t) => {
  const { code, output } = await startMain({ SLIPWAY_LOG_LEVEL: 'verbose' });
  t.equal(code, 1);
  t.match(linesOf(output), [/^slipway: SLIPWAY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/], `one line: ${output}`);
  t.equal(linesOf(output).length, 1);
});

t.test('a port already taken: exits non-zero with one line naming HOST and PORT', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const dataDir = t.testdir();
  const { code, output } = await startMain({ PORT: String(port), SLIPWAY_PROVISION_ENGINE: 'false', SLIPWAY_LOG_LEVEL: 'silent', SLIPWAY_DATA_DIR: dataDir });
  t.equal(code, 1);
  t.match(linesOf(output), [new RegExp(`^slipway: cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): .*EADDRINUSE`)], `one line: ${output}`);
  t.equal(linesOf(output).length, 1);
});

t.test('an unknown SLIPWAY_ variable is warned about once at start-up, with the setting it was likely meant to be', async (t) => {
  const dataDir = t.testdir();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', SLIPWAY_PROVISION_ENGINE: 'false', SLIPWAY_DATA_DIR: dataDir, SLIPWAY_LOG_LEVEL: 'info', SLIPWAY_TOKEN_FILE: '/nowhere' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (c) => {
      output += c;
      if (/Server listening/.test(output)) resolve();
    });
    child.once('exit', () => resolve());
  });
  child.kill('SIGTERM');
  await exited;
  const warnings = output.split('\n').filter((line) => line.includes('SLIPWAY_TOKEN_FILE'));
  t.equal(warnings.length, 1, 'warned once');
  t.match(JSON.parse(warnings[0]!), { level: 40, msg: 'unknown setting SLIPWAY_TOKEN_FILE is ignored (did you mean SLIPWAY_TOKENS_FILE?)' });
  t.match(output, /Server listening/, 'and it started');
});
