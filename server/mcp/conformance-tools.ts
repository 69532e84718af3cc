/**
 * Tools the official MCP conformance suite (@modelcontextprotocol/conformance) calls by
 * name, listed only when SLIPWAY_MCP_CONFORMANCE_TOOLS=true: they start no container
 * and are of no use to a model, so a normal server never shows them.
 *
 * `test_reconnection` (scenario `server-sse-polling`) runs just longer than the time
 * after which the server closes a tool call's POST stream (sse-polling.ts), so the
 * scenario sees the real mechanism: priming event, stream closed mid-call, result
 * delivered on the GET that resumes with Last-Event-ID. Run the scenario against a
 * gateway started with SLIPWAY_MCP_STREAM_CLOSE_SECONDS=1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.js';
import type { SlipwayTool } from './tools.js';

export function conformanceTools(config: Config): SlipwayTool[] {
  if (!config.mcp.conformanceTools) return [];
  const waitMs = config.mcp.ssePolling.closeAfterMs + 1000;
  return [
    {
      name: 'test_reconnection',
      scope: 'read',
      title: 'Conformance: SSE polling',
      description: `For the MCP conformance suite only: waits ${waitMs} ms, outlasting the server's close of this call's stream, then answers.`,
      input: Type.Object({}),
      output: Type.Object({ waited_ms: Type.Integer() }),
      annotations: { title: 'Conformance: SSE polling', readOnlyHint: true, openWorldHint: false },
      async call(_input, { signal }) {
        await sleep(waitMs, undefined, { signal });
        return { structured: { waited_ms: waitMs }, text: `reconnection test completed after ${waitMs} ms` };
      },
    },
  ];
}
