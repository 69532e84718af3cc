/**
 * The one line start-up says to a person: where the gateway listens, whether it wants
 * tokens, what runs the containers, which instance and data it owns, and where its doors
 * are. Written after listening, so the address is the real one (PORT=0 included).
 */
import type { Config } from './config.js';
import type { RuntimeVersion } from '../lib/runtime/container-runtime.js';

export function startupLine(config: Config, address: string, engine: RuntimeVersion | Error): string {
  const tokens = config.auth.tokens.length;
  const mode = tokens > 0 ? `token mode (${tokens} token${tokens === 1 ? '' : 's'})` : 'open mode (no tokens)';
  const backend = engine instanceof Error ? `${config.backend} (engine not answering: ${engine.message})` : `${engine.backend} ${engine.version}`;
  return (
    `Slipway listening on ${address}, ${mode}, backend ${backend}, instance ${config.instance}, data ${config.dataDir}; ` +
    `dashboard ${address}/ui, API docs ${address}/docs, MCP ${address}/mcp, metrics ${address}/metrics`
  );
}
