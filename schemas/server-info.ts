/** What the server allows the caller (GET /v1/info, get_server_info): its effective policy, the server's bounds and the engine. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './compact.js';

const Limits = (what: string) =>
  Type.Object(
    {
      memory_bytes: Type.Integer(),
      cpus: Type.Number(),
      pids_limit: Type.Integer(),
      timeout_seconds: Type.Integer(),
    },
    { additionalProperties: false, description: what },
  );

export const ServerInfoInput = Type.Object({}, { additionalProperties: false, examples: [{}] });
export type ServerInfoInput = Static<typeof ServerInfoInput>;

export const ServerInfo = Type.Object(
  {
    caller: Type.Object(
      {
        name: Nullable(Type.String(), { description: 'The token\'s name; null on a server without tokens.' }),
        sees_all: Type.Boolean({ description: 'Sees and manages every caller\'s runs (an admin token, or a server without tokens).' }),
      },
      { additionalProperties: false },
    ),
    policy: Type.Object(
      {
        defaults: Limits('What a run gets when it asks for nothing.'),
        caps: Limits('The most a run may ask for; more is refused.'),
        network_modes: Type.Array(Type.String()),
        allow_writable_rootfs: Type.Boolean(),
        image_allow: Type.Array(Type.String(), { description: 'Image patterns this caller may run; empty allows any.' }),
        manage_all_containers: Type.Boolean(),
        allow_builds: Type.Boolean(),
        build_network: Type.Boolean(),
        runtime: Nullable(Type.String(), { description: 'The OCI runtime of this caller\'s containers; null for the engine\'s default.' }),
        max_concurrent_runs: Nullable(Type.Integer(), { description: 'Runs this caller may have queued or executing at once.' }),
      },
      { additionalProperties: false, description: 'The policy this caller\'s requests are held to.' },
    ),
    server: Type.Object(
      {
        instance: Type.String(),
        max_concurrent_runs: Type.Integer({ description: 'Runs executing at once, server-wide.' }),
        max_queued_runs: Type.Integer(),
        max_running_per_caller: Type.Integer(),
        max_queued_per_caller: Type.Integer(),
        output_cap_bytes: Type.Integer({ description: 'Bytes of stdout and of stderr kept in a run\'s result.' }),
        run_retention_seconds: Type.Integer(),
      },
      { additionalProperties: false },
    ),
    engine: Type.Object(
      {
        backend: Type.String(),
        reachable: Type.Boolean(),
        version: Nullable(Type.String()),
        error: Nullable(Type.String({ description: 'Why the engine did not answer.' })),
      },
      { additionalProperties: false },
    ),
    pool: Type.Array(
      Type.Object(
        {
          key: Type.String({ description: 'The SLIPWAY_POOL entry: a language preset or an image.' }),
          image: Type.String(),
          size: Type.Integer({ description: 'Idle containers kept ready.' }),
          idle: Type.Integer(),
          claimed: Type.Integer({ description: 'Taken by a sandbox or run of this process, not yet removed.' }),
          replenishing: Type.Integer(),
          misses: Type.Integer({ description: 'Creates that found none ready and started cold.' }),
        },
        { additionalProperties: false },
      ),
      { description: 'The warm pool: a sandbox of one of these images with default limits starts from a ready container, never shared.' },
    ),
    owners: Type.Optional(Type.Array(Type.String(), { description: 'Callers with runs kept here; only for a caller that sees all.' })),
  },
  { additionalProperties: false },
);
export type ServerInfo = Static<typeof ServerInfo>;
