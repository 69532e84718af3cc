// `npm start`'s process (server/main.ts) when things are wrong at start-up: no engine
// and no way to provision one, or a bad setting. It must exit non-zero and say why.
import t from 'tap';
import { spawn } from 'node:child_process';
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

t.test('a malformed setting: exits non-zero naming it', async (t) => {
  const { code, output } = await startMain({ SLIPWAY_MEMORY_MAX_BYTES: 'lots' });
  t.equal(code, 1);
  t.match(output, /SLIPWAY_MEMORY_MAX_BYTES must be an integer/);
});
