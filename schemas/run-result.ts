import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from './compact.js';


export const RUN_STATUSES = ['queued', 'pulling', 'building', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'] as const;
export const RunStatus = StringEnum(RUN_STATUSES);
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the run's container used: CPU time and peak memory over its whole life (lib/docker/run-usage.ts says from where). */
export const ResourceUsage = Type.Object(
  {
    cpu_seconds: Type.Number({ description: 'CPU time used, all cores together, in seconds.' }),
    memory_peak_bytes: Type.Integer({ description: 'The most memory the container held at once, in bytes.' }),
  },
  { additionalProperties: false },
);
export type ResourceUsage = Static<typeof ResourceUsage>;

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
        description: 'CPU and peak memory of the run\'s container; null when unknown (`resource_usage_unavailable` says why).',
      }),
    ),
    resource_usage_unavailable: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);
export type RunResult = Static<typeof RunResult>;
