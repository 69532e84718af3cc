/** Shapes of run records and their look-ups (GET /v1/runs, get_run, cancel_run, get_run_logs). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from './compact.js';
import { RepoBuildResult } from './repo-run.js';
import { ReturnedFilesFields, RUN_STATUSES, RunResult, RunStatus } from './run-result.js';

export const RunKind = StringEnum(['image', 'payload', 'repo', 'exec']);

/** A run as recorded: a run result plus what kind of run it is and when it was asked for. */
export const RunRecord = Type.Composite(
  [
    RunResult,
    Type.Object({
      kind: RunKind,
      created_at: Type.String({ description: 'ISO 8601' }),
      log_truncated: Type.Boolean({
        description: 'True when the kept log is not the whole output: it reached its size cap, or output was lost while the gateway was down (a `gap` event marks where).',
      }),
    }),
    // A repo run's build, once known.
    Type.Partial(RepoBuildResult),
    // A payload run's return_files, when it asked for some.
    Type.Object(ReturnedFilesFields),
  ],
  { additionalProperties: false },
);
export type RunRecord = Static<typeof RunRecord>;

export const RunAccepted = Type.Object(
  {
    run_id: Type.String(),
    status: RunStatus,
    location: Type.String({ description: 'Where to follow the run: GET this path.' }),
  },
  { additionalProperties: false },
);
export type RunAccepted = Static<typeof RunAccepted>;

export const RunId = Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'The run\'s id (`run_id` of any run answer).' });

const EXAMPLE_RUN_ID = '0b9c6c1e-5a6f-4d8e-9f3a-2c1d4e5f6a7b';

export const RunRef = Type.Object({ run_id: RunId }, { additionalProperties: false, examples: [{ run_id: EXAMPLE_RUN_ID }] });
export type RunRef = Static<typeof RunRef>;

/** A real calendar time (schemas/validator.ts checks `date-time`), not only its shape. */
const IsoTime = (description: string) => Type.String({ format: 'date-time', maxLength: 64, description });

export const ListRunsInput = Type.Object(
  {
    status: Type.Optional(StringEnum(RUN_STATUSES, { description: 'Only runs with this status.' })),
    kind: Type.Optional(StringEnum(['image', 'payload', 'repo', 'exec'], { description: 'Only runs of this kind: `image`, `payload`, `repo` or `exec` (a command in a sandbox).' })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only runs of this token name (another than the caller\'s: admin only).' })),
    since: Type.Optional(IsoTime('Only runs created at or after this ISO 8601 time.')),
    until: Type.Optional(IsoTime('Only runs created before this ISO 8601 time.')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Page size (default 50).' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'From `next_cursor` of the previous page.' })),
    include: Type.Optional(
      StringEnum(['output'], { description: '`output`: add `stdout` and `stderr`.' }),
    ),
  },
  { additionalProperties: false, examples: [{ status: 'succeeded', limit: 10 }] },
);
export type ListRunsInput = Static<typeof ListRunsInput>;

/** A run in a listing: the record, with its output only when the caller asked (`include: output`). */
export const RunListEntry = Type.Composite([Type.Omit(RunRecord, ['stdout', 'stderr']), Type.Partial(Type.Pick(RunRecord, ['stdout', 'stderr']))], {
  additionalProperties: false,
});
export type RunListEntry = Static<typeof RunListEntry>;

export const ListRunsResult = Type.Object(
  {
    runs: Type.Array(RunListEntry),
    next_cursor: Nullable(Type.String(), { description: 'Pass as `cursor` for the next page; null on the last.' }),
  },
  { additionalProperties: false },
);
export type ListRunsResult = Static<typeof ListRunsResult>;

export const RunLogEventType = StringEnum(['stdout', 'stderr', 'status', 'pull', 'build', 'truncated', 'gap', 'end']);

export const RunLogEvent = Type.Object(
  {
    id: Type.Integer({ description: 'Increases by one within the run, from 1.' }),
    time: Type.String({ description: 'ISO 8601' }),
    type: RunLogEventType,
    data: Type.Unknown({ description: 'Text for stdout/stderr/build; an object for status, pull, gap and end.' }),
  },
  { additionalProperties: false },
);
export type RunLogEvent = Static<typeof RunLogEvent>;

export const RunLogsInput = Type.Object(
  {
    run_id: RunId,
    after_event_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events after this id (default 0: from the start).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, description: 'At most this many events (default 1000).' })),
  },
  { additionalProperties: false, examples: [{ run_id: EXAMPLE_RUN_ID, after_event_id: 0, limit: 100 }] },
);
export type RunLogsInput = Static<typeof RunLogsInput>;

export const RunLogsResult = Type.Object(
  {
    run_id: Type.String(),
    status: RunStatus,
    events: Type.Array(RunLogEvent),
    last_event_id: Type.Integer({ description: 'Pass as `after_event_id` to continue.' }),
    complete: Type.Boolean({ description: 'True when the run has ended and every event up to its end is here.' }),
  },
  { additionalProperties: false },
);
export type RunLogsResult = Static<typeof RunLogsResult>;
