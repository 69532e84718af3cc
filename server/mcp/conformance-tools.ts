/**
 * Tools the official MCP conformance suite (@modelcontextprotocol/conformance) calls by
 * name, listed only when SLIPWAY_MCP_CONFORMANCE_TOOLS=true: they start no container
 * and are of no use to a model, so a normal server never shows them. They are the one
 * exception to "every operation on both doors": a test hook of the MCP transport itself,
 * declared like an operation so the MCP door calls it the same way, but never in
 * operations/index.ts and so never a REST route.
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
import { operation, type Operation } from '../../operations/operation.js';

export function conformanceOperations(config: Config): Operation[] {
  if (!config.mcp.conformanceTools) return [];
  const waitMs = config.mcp.ssePolling.closeAfterMs + 1000;
  return [
    operation({
      name: 'conformance_test_reconnection',
      tool: 'test_reconnection',
      title: 'Conformance: SSE polling',
      tag: 'runs',
      description: () => `For the MCP conformance suite only: waits ${waitMs} ms, outlasting the server's close of this call's stream, then answers.`,
      scope: 'read',
      // Never registered: the conformance hook is MCP-only (see above).
      rest: { method: 'POST', path: '/v1/conformance/test-reconnection', rest: 'body' },
      input: Type.Object({}),
      output: Type.Object({ waited_ms: Type.Integer() }),
      answer: 'Waited.',
      errors: [],
      hints: () => ({ readOnly: true, openWorld: false }),
      reply: 'json',
      text: () => `reconnection test completed after ${waitMs} ms`,
      call: async (_input, { signal }) => {
        await sleep(waitMs, undefined, { signal });
        return { waited_ms: waitMs };
      },
    }),
  ];
}
