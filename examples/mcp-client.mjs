// Connects to Slipway's MCP endpoint, lists its tools, runs one container and prints
// the result. Needs `npm install @modelcontextprotocol/sdk` (already there in a checkout).
//
//   node examples/mcp-client.mjs [url] [image] [command...]
//   node examples/mcp-client.mjs http://127.0.0.1:8080/mcp python:3.12-slim python3 -c 'print(2+2)'
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url = 'http://127.0.0.1:8080/mcp', image = 'python:3.12-slim', ...command] = process.argv.slice(2);
const argv = command.length > 0 ? command : ['python3', '-c', 'print("hello from Slipway")'];

const client = new Client({ name: 'slipway-example', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);

const { tools } = await client.listTools();
console.log(`tools: ${tools.map((tool) => tool.name).join(', ')}`);

const result = await client.callTool(
  { name: 'execute_docker_container', arguments: { image, command: argv } },
  undefined,
  // Progress keeps the request alive while a long run (or an image pull) goes on.
  { onprogress: (p) => console.error(`progress: ${p.message}`), resetTimeoutOnProgress: true },
);
console.log(result.content.find((c) => c.type === 'text')?.text);
if (result.structuredContent) console.log(JSON.stringify(result.structuredContent, null, 2));

await transport.terminateSession();
await client.close();
process.exitCode = result.isError || !result.structuredContent?.success ? 1 : 0;
