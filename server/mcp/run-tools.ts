/**
 * The MCP tools around kept runs: look one up, page through its log, cancel it. Their
 * REST twins are GET /v1/runs/{id}, GET /v1/runs/{id}/logs and DELETE /v1/runs/{id}.
 */
import { ownerFilter } from '../../lib/caller.js';
import { toPublicRecord } from '../../lib/runs.js';
import { RunLogsInput, RunLogsResult, RunRecord, RunRef } from '../../schemas/runs.js';
import { runText } from './result-text.js';
import type { SlipwayTool } from './tools.js';

export function runTools(): SlipwayTool[] {
  return [
    {
      name: 'get_run',
      scope: 'read',
      title: 'Look up a run',
      description:
        'The current state of a run by `run_id` (from any run tool, including one started with `wait: false`): `status` ' +
        '(queued, pulling, building, running, then succeeded, failed, timed_out, oom_killed, cancelled or error), `kind`, timestamps, ' +
        'and once it has ended the same result fields a waited-for run returns (`exit_code`, `stdout`, `stderr`, `error_message`). ' +
        'Cheap and read-only: poll it every few seconds to wait for an asynchronous run.',
      input: RunRef,
      output: RunRecord,
      annotations: { title: 'Look up a run', readOnlyHint: true, openWorldHint: false },
      async call(input, { slipway, caller }) {
        const record = toPublicRecord(slipway.runs.get((input as RunRef).run_id, ownerFilter(caller)));
        return { structured: record, text: runText(record) };
      },
    },
    {
      name: 'get_run_logs',
      scope: 'read',
      title: 'Read a run\'s log',
      description:
        'A page of a run\'s log events in order: `stdout`, `stderr`, `status`, `pull`, `build`, and `end` with the final status. ' +
        'Each event has an `id` increasing within the run; pass the answer\'s `last_event_id` as `after_event_id` to read on, until ' +
        '`complete` is true. Works during the run and after it. At most `limit` events (default 1000). Read-only.',
      input: RunLogsInput,
      output: RunLogsResult,
      annotations: { title: 'Read a run\'s log', readOnlyHint: true, openWorldHint: false },
      async call(input, { slipway, caller }) {
        const page = slipway.runLogs(input as RunLogsInput, caller);
        const output = page.events.filter((e) => e.type === 'stdout' || e.type === 'stderr').map((e) => String(e.data)).join('');
        const text = `run ${page.run_id}: ${page.status}, ${page.events.length} events up to id ${page.last_event_id}${page.complete ? ', complete' : ''}\n${output}`;
        return { structured: page, text };
      },
    },
    {
      name: 'cancel_run',
      scope: 'run',
      title: 'Cancel a run',
      description:
        'Cancel a queued or running run by `run_id`: a queued run never starts; a running one gets SIGTERM, then SIGKILL after a short ' +
        'grace, and its container is removed. The run ends `cancelled`; the answer is its record. A run that already ended is an error ' +
        '(SLIPWAY_ERR_CONFLICT).',
      input: RunRef,
      output: RunRecord,
      annotations: { title: 'Cancel a run', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      async call(input, { slipway, caller }) {
        const record = toPublicRecord(await slipway.runs.cancel((input as RunRef).run_id, ownerFilter(caller)));
        return { structured: record, text: runText(record) };
      },
    },
  ];
}
