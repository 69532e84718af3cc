import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from './compact.js';


export const RUN_STATUSES = ['queued', 'pulling', 'building', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'] as const;
export const RunStatus = StringEnum(RUN_STATUSES);
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the run's container used, as the engine sampled it (about once a second while it ran). */
export const ResourceUsage = Type.Object(
  {
    cpu_seconds: Type.Number({ description: 'CPU time used, all cores together, in seconds.' }),
    memory_peak_bytes: Type.Integer({ description: 'The most memory the container held at once, in bytes.' }),
  },
  { additionalProperties: false },
);
export type ResourceUsage = Static<typeof ResourceUsage>;

/** A file a payload run handed back (`return_files`). */
export const ReturnedFile = Type.Object(
  {
    path: Type.String({ description: 'Relative to /workspace, as the pattern matched it.' }),
    size: Type.Integer({ description: 'The file\'s size in bytes (it may be more than `content` holds).' }),
    encoding: StringEnum(['utf8', 'base64'], { description: '`utf8` for text, `base64` for anything else (binary, or text cut inside a character).' }),
    content: Type.String(),
    truncated: Type.Boolean({ description: 'The content stops at the server\'s per-file or total bound.' }),
  },
  { additionalProperties: false },
);
export type ReturnedFile = Static<typeof ReturnedFile>;

/** A match of `return_files` that was not read, and why. */
export const RefusedFile = Type.Object(
  { path: Type.String(), reason: Type.String({ description: 'e.g. a link leading outside /workspace, not a regular file, nothing matched.' }) },
  { additionalProperties: false },
);

/** The result fields of `return_files` (present only when the request named some). */
export const ReturnedFilesFields = {
  files: Type.Optional(Type.Array(ReturnedFile, { description: 'Files the run produced that `return_files` named, read after the program ended.' })),
  files_truncated: Type.Optional(Type.Boolean({ description: 'True when not everything that matched is here: the server\'s count or byte bounds cut the list or a file.' })),
  files_refused: Type.Optional(Type.Array(RefusedFile, { description: 'Matches not read (a link out of /workspace, a directory) and patterns that matched nothing.' })),
};
export interface ReturnedFiles {
  files: ReturnedFile[];
  files_truncated: boolean;
  files_refused: Static<typeof RefusedFile>[];
}

/**
 * The result of a run. The first six fields are the original module's; the rest say
 * which run this was and how it ended.
 */
export const RunResult = Type.Object(
  {
    success: Type.Boolean({ description: 'Exited 0 and nothing stopped it.' }),
    exit_code: Nullable(Type.Integer()),
    stdout: Type.String(),
    stderr: Type.String(),
    execution_time: Type.Number({ description: 'Seconds.' }),
    error_message: Nullable(Type.String()),
    run_id: Type.String(),
    status: RunStatus,
    container_id: Nullable(Type.String()),
    image: Type.String(),
    started_at: Nullable(Type.String({ description: 'ISO 8601' })),
    finished_at: Nullable(Type.String({ description: 'ISO 8601' })),
    stdout_truncated: Type.Boolean({ description: 'More was printed than kept (the head is here).' }),
    stderr_truncated: Type.Boolean(),
    resource_usage: Type.Optional(
      Type.Union([ResourceUsage, Type.Null()], {
        description: 'CPU and peak memory of the container, from the engine\'s samples while it ran (about one a second, so the last second is not seen); null when no sample was taken (a run under a second, or no container).',
      }),
    ),
    ...ReturnedFilesFields,
  },
  { additionalProperties: false },
);
export type RunResult = Static<typeof RunResult>;
