/** Sandboxes: long-lived containers a caller owns, works in with exec and files, and deletes. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from './compact.js';
import { ArgvField, Environment, ImageReference, MemoryLimit, MIN_CPUS, MIN_TIMEOUT_SECONDS, NetworkMode, PullPolicy, RunControl } from './common.js';
import { PayloadFile } from './payload-run.js';

export const SANDBOX_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const EXAMPLE_ID = '3f2b8c1e-5d4a-4e2f-9b6c-7a1d0e9f8c2b';

export const SandboxId = Type.String({ pattern: SANDBOX_ID_PATTERN, description: 'The sandbox\'s id, as create_sandbox answered it.' });

/** Caller-chosen labels: bounded in count and size, plain names. */
export const SandboxLabels = Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' }), Type.String({ maxLength: 256 }), {
  maxProperties: 16,
  additionalProperties: false,
  description: 'Up to 16 labels of your own (names of letters, digits and `_.-`), shown when listing.',
});

/** A path inside /workspace: relative to it, or absolute under it. */
export const WorkspacePath = (description: string) => Type.String({ minLength: 1, maxLength: 1024, description });

export const CreateSandboxInput = Type.Object(
  {
    image: Type.Optional(ImageReference),
    language: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Language preset (e.g. `python`) whose image the sandbox runs; list_languages names them.' })),
    environment: Type.Optional(Environment),
    working_dir: Type.Optional(WorkspacePath('Where commands run by default: /workspace (default) or a directory under it.')),
    memory_limit: Type.Optional(MemoryLimit),
    cpu_limit: Type.Optional(Type.Number({ minimum: MIN_CPUS, maximum: 64, description: 'CPUs for the whole sandbox, e.g. 0.5 (default 1).' })),
    pids_limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: 'Maximum processes in the sandbox at once (default 256).' })),
    network_mode: Type.Optional(NetworkMode),
    ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Hard lifetime in seconds from creation (extend_sandbox_ttl moves it); default and cap are the server\'s.' })),
    idle_timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Deleted after this many seconds without an exec or a file operation.' })),
    labels: Type.Optional(SandboxLabels),
    pull_policy: Type.Optional(PullPolicy),
  },
  { additionalProperties: false, examples: [{ language: 'python', ttl_seconds: 900, idle_timeout_seconds: 300, labels: { task: 'data-cleanup' } }] },
);
export type CreateSandboxInput = Static<typeof CreateSandboxInput>;

/** A live sandbox's usage now (get_sandbox only; listing does not measure). */
export const SandboxUsage = Type.Object(
  {
    cpu_seconds: Type.Number(),
    memory_bytes: Type.Integer({ description: 'Held now; files in /workspace count.' }),
    memory_peak_bytes: Nullable(Type.Integer()),
    sampled_at: Type.String(),
  },
  { additionalProperties: false },
);
export type SandboxUsage = Static<typeof SandboxUsage>;

export const SandboxRecord = Type.Object(
  {
    sandbox_id: Type.String(),
    state: StringEnum(['creating', 'running']),
    owner: Nullable(Type.String()),
    image: Type.String(),
    container_id: Nullable(Type.String()),
    created_at: Type.String(),
    last_activity_at: Type.String(),
    expires_at: Type.String(),
    idle_expires_at: Type.String(),
    idle_timeout_seconds: Type.Integer(),
    memory_bytes: Type.Integer(),
    workspace: Type.String(),
    working_dir: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);
export type SandboxRecord = Static<typeof SandboxRecord>;

/** get_sandbox's answer: the record and its usage now (only a get measures). */
export const SandboxDetails = Type.Object(
  {
    ...SandboxRecord.properties,
    usage: Type.Union([SandboxUsage, Type.Null()], { description: 'null: see `usage_unavailable`.' }),
    usage_unavailable: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type SandboxDetails = Static<typeof SandboxDetails>;

export const SandboxRef = Type.Object({ sandbox_id: SandboxId }, { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID }] });
export type SandboxRef = Static<typeof SandboxRef>;

export const ListSandboxesInput = Type.Object({}, { additionalProperties: false, examples: [{}] });
export const ListSandboxesResult = Type.Object({ sandboxes: Type.Array(SandboxRecord) }, { additionalProperties: false });
export type ListSandboxesResult = Static<typeof ListSandboxesResult>;

export const DeleteSandboxResult = Type.Object({ sandbox_id: Type.String(), deleted: Type.Boolean() }, { additionalProperties: false });
export type DeleteSandboxResult = Static<typeof DeleteSandboxResult>;

export const ExtendTtlInput = Type.Object(
  {
    sandbox_id: SandboxId,
    ttl_seconds: Type.Integer({ minimum: 1, description: 'The sandbox lives this many seconds from now (at most the server\'s cap).' }),
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, ttl_seconds: 1800 }] },
);
export type ExtendTtlInput = Static<typeof ExtendTtlInput>;

export const SandboxExecInput = Type.Object(
  {
    sandbox_id: SandboxId,
    command: ArgvField('What to run in the sandbox, e.g. `["python3", "-c", "print(2+2)"]`, or a string split by shell quoting rules (no shell runs).'),
    stdin: Type.Optional(Type.String({ maxLength: 1048576, description: 'Text written to the command\'s standard input, then closed.' })),
    environment: Type.Optional(Environment),
    working_dir: Type.Optional(WorkspacePath('Where the command runs: the sandbox\'s working directory by default.')),
    timeout: Type.Optional(
      Type.Number({ minimum: MIN_TIMEOUT_SECONDS, maximum: 86400, description: 'Seconds before the command and all it started are killed, ending `timed_out` (default 60).' }),
    ),
    ...RunControl,
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, command: ['sh', '-c', 'echo hello > note.txt && cat note.txt'], timeout: 30 }] },
);
export type SandboxExecInput = Static<typeof SandboxExecInput>;

export const WriteFilesInput = Type.Object(
  {
    sandbox_id: SandboxId,
    files: Type.Array(PayloadFile, { minItems: 1, maxItems: 200, description: 'Files written under /workspace (paths relative to it), replacing files of the same name.' }),
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, files: [{ path: 'data/input.csv', content: 'a,b\n1,2\n' }] }] },
);
export type WriteFilesInput = Static<typeof WriteFilesInput>;

export const WriteFilesResult = Type.Object(
  { sandbox_id: Type.String(), written: Type.Array(Type.Object({ path: Type.String(), bytes: Type.Integer() }, { additionalProperties: false })) },
  { additionalProperties: false },
);
export type WriteFilesResult = Static<typeof WriteFilesResult>;

export const ReadFileInput = Type.Object(
  {
    sandbox_id: SandboxId,
    path: WorkspacePath('The file, relative to /workspace (or absolute under it), e.g. `data/output.json`.'),
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, path: 'note.txt' }] },
);
export type ReadFileInput = Static<typeof ReadFileInput>;

export const ReadFileResult = Type.Object(
  {
    path: Type.String(),
    size: Type.Integer({ description: 'The whole file\'s size in bytes.' }),
    encoding: StringEnum(['utf8', 'base64']),
    content: Type.String(),
    truncated: Type.Boolean({ description: 'Only the head of the file is here (the server\'s read bound).' }),
  },
  { additionalProperties: false },
);
export type ReadFileResult = Static<typeof ReadFileResult>;

export const ListFilesInput = Type.Object(
  {
    sandbox_id: SandboxId,
    path: Type.Optional(WorkspacePath('The directory, relative to /workspace (default: /workspace itself).')),
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, path: '.' }] },
);
export type ListFilesInput = Static<typeof ListFilesInput>;

export const FileEntryInfo = Type.Object(
  { name: Type.String(), type: StringEnum(['file', 'directory', 'symlink', 'other']), size: Type.Integer(), modified_at: Type.String() },
  { additionalProperties: false },
);
export const ListFilesResult = Type.Object(
  { path: Type.String(), entries: Type.Array(FileEntryInfo), truncated: Type.Boolean({ description: 'More entries than the server lists at once.' }) },
  { additionalProperties: false },
);
export type ListFilesResult = Static<typeof ListFilesResult>;
export type FileEntryInfo = Static<typeof FileEntryInfo>;
