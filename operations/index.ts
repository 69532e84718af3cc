/**
 * Every operation Slipway offers, declared once. The REST routes (routes/operations.ts),
 * the MCP tools (server/mcp/tools.ts), the scope check and the audit line
 * (operations/invoke.ts) and the OpenAPI entries are all derived from this table: an
 * operation added here appears on both doors, with its scope, audit and documentation.
 *
 * Hand-written on purpose, and REST only: the SSE log stream GET /v1/runs/{id}/logs (a
 * streaming transport; get_run_logs is its paged twin here), health and readiness, the
 * OpenAPI document and /docs, and the MCP transport at /mcp itself.
 *
 * REST only by declaration: REST_ONLY_OPERATIONS, whose request or answer is raw bytes
 * (operations/rest-only-operation.ts says why and how they are derived).
 */
import type { Operation } from './operation.js';
import { listContainers, pullImage, stopContainer } from './container-operations.js';
import { listLanguages } from './language-operations.js';
import { cancelRun, getRun, getRunLogs, listRuns } from './record-operations.js';
import { runImage, runPayload, runRepo } from './run-operations.js';
import { getServerInfo } from './server-operations.js';
import { SANDBOX_OPERATIONS } from './sandbox-operations.js';
import { ARCHIVE_OPERATIONS } from './archive-operations.js';
import type { RestOnlyOperation } from './rest-only-operation.js';

export const OPERATIONS: readonly Operation[] = [
  runImage,
  runPayload,
  runRepo,
  listLanguages,
  listRuns,
  getRun,
  getRunLogs,
  cancelRun,
  listContainers,
  stopContainer,
  pullImage,
  getServerInfo,
  ...SANDBOX_OPERATIONS,
];

export const REST_ONLY_OPERATIONS: readonly RestOnlyOperation[] = [...ARCHIVE_OPERATIONS];
