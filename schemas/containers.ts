import { Type, type Static } from '@sinclair/typebox';

export const ContainerState = Type.Union(
  ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'].map((s) => Type.Literal(s)),
);

export const ListContainersInput = Type.Object(
  {
    state: Type.Optional(ContainerState),
    all_engine: Type.Optional(Type.Boolean({ description: 'List every container on the engine, not only Slipway\'s (only where the server allows it).' })),
  },
  { additionalProperties: false },
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
    run_id: Type.Union([Type.String(), Type.Null()]),
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

export const ContainerRef = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$', description: 'Container id (full or short), name, or the id of the run it belongs to.' });

export const StopContainerInput = Type.Object(
  {
    container_id: ContainerRef,
    timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: 'Seconds between SIGTERM and SIGKILL (default 10).' })),
  },
  { additionalProperties: false },
);
export type StopContainerInput = Static<typeof StopContainerInput>;

export const StopContainerResult = Type.Object(
  {
    success: Type.Boolean(),
    container_id: Type.String(),
    was_running: Type.Boolean(),
    run_id: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type StopContainerResult = Static<typeof StopContainerResult>;
