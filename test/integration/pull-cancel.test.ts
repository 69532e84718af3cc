// Cancelling while the image is still being pulled: the gateway stops waiting at once,
// the run ends cancelled, and no container is ever created. The "registry" accepts
// connections and never answers, so without cancellation the call would wait on the
// engine's own registry timeout. (Docker 20.10 itself goes on with an abandoned pull.)
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../fixtures/gateway.js';
import { createdSince } from '../fixtures/engine-view.js';
import { pollUntilFinal } from '../fixtures/runs.js';
import { connectClient } from '../fixtures/mcp.js';

const sockets = new Set<Socket>();
const silentRegistry = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => silentRegistry.listen(0, '127.0.0.1', resolve));
const image = `127.0.0.1:${(silentRegistry.address() as AddressInfo).port}/slipway-test/never:1`;
t.teardown(() => {
  for (const s of sockets) s.destroy();
  silentRegistry.close();
});

const gw = await startGateway();
t.teardown(() => gw.close());

t.test('DELETE during the pull: cancelled, nothing created', async (t) => {
  const since = Date.now();
  const start = await gw.request('POST', '/v1/containers/run', { image, command: ['true'], wait: false });
  t.equal(start.status, 202);
  for (let i = 0; i < 50 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(sockets.size > 0, 'the engine is waiting on the registry');
  const cancelled = await gw.request('DELETE', `/v1/runs/${start.body.run_id}`);
  t.match(cancelled.body, { status: 'cancelled', container_id: null });
  t.match(await pollUntilFinal(gw, start.body.run_id, 5_000), { status: 'cancelled' });
  t.same(await createdSince(gw.instance, since), [], 'no container was created');
});

t.test('an MCP pull cancelled by the client is abandoned', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const controller = new AbortController();
  const call = mcp.client.callTool({ name: 'pull_docker_image', arguments: { image } }, undefined, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 500));
  controller.abort();
  await t.rejects(call, 'the call is abandoned');
  const listed = await mcp.client.callTool({ name: 'list_running_containers', arguments: {} });
  t.notOk(listed.isError, 'the session goes on serving');
});
