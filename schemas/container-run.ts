import { Type, type Static } from '@sinclair/typebox';
import { Command, Entrypoint, ImageReference, RunLimits, RunControl } from './common.js';

/** Input of execute_docker_container / POST /v1/containers/run. */
export const ContainerRunInput = Type.Object(
  {
    image: ImageReference,
    command: Type.Optional(Command),
    entrypoint: Type.Optional(Entrypoint),
    working_dir: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$', maxLength: 4096, description: 'Absolute working directory.' })),
    user: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}(?::[A-Za-z0-9_.-]{1,64})?$', description: 'User (and group) to run as, e.g. `65534:65534`; the image default otherwise.' }),
    ),
    read_only: Type.Optional(Type.Boolean({ description: 'Read-only root filesystem (default true; `false` only where the server allows it). /tmp is always a small writable tmpfs.' })),
    ...RunLimits,
    ...RunControl,
  },
  {
    additionalProperties: false,
    // What /docs offers under "Try it out", and what test/integration/operation-examples.test.ts runs.
    examples: [{ image: 'python:3.12-slim', command: ['python3', '-c', 'print(2+2)'], memory_limit: '256m', timeout: 30 }],
  },
);
export type ContainerRunInput = Static<typeof ContainerRunInput>;
