import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from './compact.js';

export const ContainerState = StringEnum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'], {
  description: 'Only containers in this engine state, e.g. `running` (default: every state).',
});

export const ListContainersInput = Type.Object(
  {
    state: Type.Optional(ContainerState),
    all_engine: Type.Optional(Type.Boolean({ description: 'List every container on the engine, not only Slipway\'s (only where the server allows it).' })),
  },
  { additionalProperties: false, examples: [{ state: 'running' }] },
);
export type ListContainersInput = Static<typeof ListContainersInput>;

export const ContainerSummary = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    image: Type.String(),
    state: Type.String(),
    status: Type.String(),
    created: Type.String({ description: 'ISO 8601' }),
    run_id: Nullable(Type.String(), { description: 'The run the container belongs to.' }),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);
export type ContainerSummary = Static<typeof ContainerSummary>;

export const ListContainersResult = Type.Object(
  { containers: Type.Array(ContainerSummary) },
  { additionalProperties: false },
);
export type ListContainersResult = Static<typeof ListContainersResult>;

export const ContainerRef = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$',
  description: 'Container id (full or short) or name, as list_running_containers shows it, or its run\'s id.',
});

export const StopContainerInput = Type.Object(
  {
    container_id: ContainerRef,
    timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: 'Seconds between SIGTERM and SIGKILL (default 10).' })),
  },
  { additionalProperties: false, examples: [{ container_id: 'slipway-0b9c6c1e-5a6f-4d8e-9f3a-2c1d4e5f6a7b', timeout: 5 }] },
);
export type StopContainerInput = Static<typeof StopContainerInput>;

export const StopContainerResult = Type.Object(
  {
    success: Type.Boolean(),
    container_id: Type.String(),
    was_running: Type.Boolean(),
    run_id: Nullable(Type.String(), { description: 'The run it belonged to, which ends `cancelled`.' }),
  },
  { additionalProperties: false },
);
export type StopContainerResult = Static<typeof StopContainerResult>;
