/**
 * The operations on kept runs: list them, look one up, read a page of its log, cancel
 * it. (Following a log live is the SSE route, GET /v1/runs/{id}/logs: a streaming
 * transport, so REST only; get_run_logs is its page-by-page twin on both doors.)
 */
import { ListRunsInput, ListRunsResult, RunLogsInput, RunLogsResult, RunRecord, RunRef } from '../schemas/runs.js';
import { logPageText, runText, runsText } from '../server/mcp/result-text.js';
import { operation } from './operation.js';

const READ_ONLY = () => ({ readOnly: true, openWorld: false });

export const listRuns = operation({
  name: 'list_runs',
  tool: 'list_runs',
  title: 'List runs',
  tag: 'runs',
  description: () =>
    'The caller\'s runs, newest first, each a record as get_run returns it, without its output unless `include: output`. ' +
    'Filter by `status`, `kind`, `since`, `until`; page with `limit` and `next_cursor`. Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/runs', rest: 'query' },
  input: ListRunsInput,
  output: ListRunsResult,
  answer: 'A page of run summaries (with their output when `include=output`), newest first.',
  errors: [],
  hints: READ_ONLY,
  reply: 'json',
  text: runsText,
  call: async (input, { slipway, caller }) => slipway.listRuns(input, caller),
});

export const getRun = operation({
  name: 'get_run',
  tool: 'get_run',
  title: 'Look up a run',
  tag: 'runs',
  description: () =>
    'A run\'s record by `run_id` (any run, also one started with `wait: false`): `status`, `kind`, times, and once it has ended the ' +
    'result fields a waited-for run returns. Read-only: poll it every few seconds to wait for an asynchronous run.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/runs/:run_id', params: ['run_id'], rest: 'query' },
  input: RunRef,
  output: RunRecord,
  answer: 'The run\'s record.',
  errors: [404],
  hints: READ_ONLY,
  reply: 'json',
  text: runText,
  call: async (input, { slipway, caller }) => slipway.getRun(input.run_id, caller),
});

export const getRunLogs = operation({
  name: 'get_run_logs',
  tool: 'get_run_logs',
  title: 'Read a run\'s log',
  tag: 'runs',
  description: () =>
    'A page of a run\'s log events in order (`stdout`, `stderr`, `status`, `pull`, `build`, `truncated`, `gap`, `end`), during the run ' +
    'or after it. Pass the answer\'s `last_event_id` as `after_event_id` to read on, until `complete` is true. Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/runs/:run_id/events', params: ['run_id'], rest: 'query' },
  input: RunLogsInput,
  output: RunLogsResult,
  answer: 'A page of the run\'s log events.',
  errors: [404],
  hints: READ_ONLY,
  reply: 'json',
  text: logPageText,
  call: async (input, { slipway, caller }) => slipway.runLogs(input, caller),
});

export const cancelRun = operation({
  name: 'cancel_run',
  tool: 'cancel_run',
  title: 'Cancel a run',
  tag: 'runs',
  description: () =>
    'Cancel a queued or running run by `run_id`: a running one gets SIGTERM, then SIGKILL after a short grace, and its container is ' +
    'removed. The run ends `cancelled`; the answer is its record. A run that already ended is a conflict (409).',
  scope: 'run',
  rest: { method: 'DELETE', path: '/v1/runs/:run_id', params: ['run_id'], rest: 'query' },
  input: RunRef,
  output: RunRecord,
  answer: 'The cancelled run\'s record.',
  errors: [404, 409],
  hints: () => ({ readOnly: false, destructive: true, idempotent: false, openWorld: false }),
  reply: 'json',
  text: runText,
  call: (input, { slipway, caller }) => slipway.cancelRun(input.run_id, caller),
});
