// A payload's writable /workspace (lib/run-kinds/payload-workspace.ts) against the real
// engine: filling it stops at its bound inside the container, never at the host's disk
// or the run's memory, and the next payload gets a clean one.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { waitUntilGone } from '../fixtures/engine-view.js';

const gw = await startGateway();
t.teardown(() => gw.close());

const payload = (script: string, extra: Record<string, unknown> = {}) => gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: script, ...extra });

t.test('payload disk fill: the /workspace tmpfs stops at half the run\'s memory with ENOSPC, no OOM kill; the next payload gets an empty workspace', async (t) => {
  const fill = await payload('dd if=/dev/zero of=fill bs=1M count=200; echo "dd exit $?"; du -k fill', { memory_limit: '32m' });
  t.equal(fill.status, 200);
  t.match(fill.body, { status: 'succeeded', stderr: /No space left on device/, stdout: /^dd exit 1\n/ });
  const kib = Number(/(\d+)\s+fill/.exec(fill.body.stdout)?.[1]);
  t.ok(kib > 0 && kib <= 16 * 1024, `the file stopped at the 16 MiB bound (${kib} KiB)`);
  t.ok(await waitUntilGone(fill.body.container_id), 'its container is gone');
  const next = await payload('ls -A /workspace');
  t.match(next.body, { status: 'succeeded', stdout: 'main.sh\n' }, 'the next payload is served, with only its own file');
});

t.test('payload disk fill with a server bound below half the memory: the server\'s SLIPWAY_PAYLOAD_WORKSPACE_BYTES holds', async (t) => {
  const small = await startGateway({ SLIPWAY_PAYLOAD_WORKSPACE_BYTES: String(4 * 1024 * 1024) });
  t.teardown(() => small.close());
  const fill = await small.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'dd if=/dev/zero of=fill bs=1M count=50 2>&1 | tail -1; du -k fill' });
  const kib = Number(/(\d+)\s+fill/.exec(fill.body.stdout)?.[1]);
  t.ok(kib > 0 && kib <= 4 * 1024, `the file stopped at the 4 MiB bound (${kib} KiB)`);
});
