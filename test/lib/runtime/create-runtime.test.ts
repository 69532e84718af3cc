// The backend factory and the capability check, without an engine: creating a Docker
// runtime connects to nothing until it is used.
import { pino } from 'pino';
import t from 'tap';
import { requireCapability } from '../../../lib/runtime/capabilities.js';
import { BACKEND_NAMES, createRuntime } from '../../../lib/runtime/create-runtime.js';

const settings = { backend: 'docker', docker: { socketPath: '/nonexistent.sock' }, outputCapBytes: 1024, outputLimitBytes: 4096, stopGraceSeconds: 1 };
const log = pino({ level: 'silent' });

t.test('the docker backend declares what it can do, and a backend without a capability is refused clearly rather than half doing it', async (t) => {
  const runtime = createRuntime(settings, log);
  t.equal(runtime.backend, 'docker');
  t.match(runtime.capabilities, { stdin: true, exec: true, files: true, build: true, oomDetection: true });
  t.ok(runtime.builder, 'a backend that builds has a builder');
  t.strictSame(BACKEND_NAMES, ['docker', 'swarm']);
  await t.rejects(runtime.exec('c1', { cmd: ['true'], timeoutMs: 1000 }), { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE' }, 'exec is attempted (and meets the absent engine)');
  const withoutExec = { backend: 'docker', capabilities: { ...runtime.capabilities, exec: false } };
  t.throws(() => requireCapability(withoutExec, 'exec', 'command'), {
    code: 'SLIPWAY_ERR_UNSUPPORTED',
    field: 'command',
    message: 'the docker backend does not support running a command in a live container',
  });
  t.doesNotThrow(() => requireCapability(runtime, 'stdin', 'stdin'));
});

t.test('an unreachable engine is the catalogue\'s 503, not a raw socket error', async (t) => {
  await t.rejects(createRuntime(settings, log).ping(), { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE', statusCode: 503 });
});

t.test('an unknown backend is refused naming SLIPWAY_BACKEND', async (t) => {
  t.throws(() => createRuntime({ ...settings, backend: 'kubernetes' }, log), { field: 'SLIPWAY_BACKEND', message: /must be one of docker, swarm, not kubernetes/ });
});

t.test('the swarm backend takes no stdin, no exec, no files in a live container and no builds, and places runs', async (t) => {
  const runtime = createRuntime({ ...settings, backend: 'swarm' }, log);
  t.equal(runtime.backend, 'swarm');
  t.strictSame(runtime.capabilities, { stdin: false, exec: false, files: false, build: false, oomDetection: false, watchRemoval: false, placement: true });
  t.notOk(runtime.builder, 'no builder');
  t.throws(() => requireCapability(runtime, 'stdin', 'stdin'), { code: 'SLIPWAY_ERR_UNSUPPORTED', field: 'stdin', message: 'the swarm backend does not support feeding stdin to a run' });
  await t.rejects(runtime.putFiles('s1', '/x', []), { code: 'SLIPWAY_ERR_UNSUPPORTED' });
  t.equal(createRuntime(settings, log).capabilities.placement, false, 'the docker backend does not place runs');
});
