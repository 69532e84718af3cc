// A command sent as the JSON text of an array (what MCP clients and the Inspector's CLI
// produce) runs as that array on both doors, never as one argv word; text that looks
// like JSON but is not an array of strings is refused saying to send an array.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';

const gw = await startGateway();
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});
const ENCODED = '["sh","-c","echo hi from $0"]';

t.test('REST: the JSON-encoded array runs as the array', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ENCODED });
  t.match(res.body, { status: 'succeeded', stdout: 'hi from sh\n' });
  const entry = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, entrypoint: '["echo"]', command: ['via', 'entrypoint'] });
  t.match(entry.body, { status: 'succeeded', stdout: 'via entrypoint\n' }, 'entrypoint too');
});

t.test('MCP: the JSON-encoded array runs as the array', async (t) => {
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ENCODED } })) as any;
  t.match(res.structuredContent, { status: 'succeeded', stdout: 'hi from sh\n' });
  const payload = (await mcp.client.callTool({ name: 'execute_with_payload', arguments: { image: BUSYBOX_IMAGE, command: '["sh", "main.sh"]', files: [{ path: 'main.sh', content: 'echo payload\n' }] } })) as any;
  t.match(payload.structuredContent, { status: 'succeeded', stdout: 'payload\n' });
});

t.test('JSON that is not an array of strings is refused on both doors, saying to send an array', async (t) => {
  const rest = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: '["sh", 1]' });
  t.equal(rest.status, 400);
  t.match(rest.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'command', message: /send command as an array/ });
  const tool = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: '["sh", "-c"' } })) as any;
  t.equal(tool.isError, true);
  t.match(tool._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'command', message: /send command as an array/ });
});
