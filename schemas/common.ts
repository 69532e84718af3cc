/** Field shapes shared by several operations. */
import { Type } from '@sinclair/typebox';
import { StringEnum } from './compact.js';

/**
 * Docker's reference grammar ([registry[:port]/]path[:tag][@sha256:digest]), checked
 * before anything reaches the engine: no spaces, quotes, `;`, `$` or other shell text.
 */
const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const PORT = '(?::[0-9]{1,5})?';
/** As Docker decides: a first component is a registry only with a dot, a port, or as localhost. */
const DOMAIN = `(?:localhost${PORT}|${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})+${PORT}|${DOMAIN_COMPONENT}:[0-9]{1,5})`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';

/**
 * Docker's reference grammar ([registry[:port]/]path[:tag][@sha256:digest]), checked
 * before anything reaches the engine: no spaces, quotes, `;`, `$` or other shell text.
 */
export const IMAGE_REFERENCE_PATTERN =
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`;

export const ImageReference = Type.String({
  pattern: IMAGE_REFERENCE_PATTERN,
  minLength: 1,
  maxLength: 255,
  description: 'Image reference, e.g. `python:3.12-slim` or `registry.example.com/team/tool:1.2`.',
  examples: ['python:3.12-slim'],
});

/** An argv array, or a string split by shell quoting rules (lib/command-line.ts), described for its use. */
export const ArgvField = (description: string) =>
  Type.Union([Type.Array(Type.String({ maxLength: 65536 }), { maxItems: 1024 }), Type.String({ maxLength: 65536 })], { description });

/** What to run: an argv array, or a string split by shell quoting rules (no shell runs). */
export const Command = ArgvField(
  'The command and its arguments, e.g. `["python3", "-c", "print(2+2)"]` (default: the image\'s CMD). A string is split by shell ' +
    'quoting rules, but no shell runs: `;`, `|`, `&&` and redirections are refused.',
);

/** The image's ENTRYPOINT replaced: what `command` is then passed to. */
export const Entrypoint = ArgvField(
  'Replaces the image\'s ENTRYPOINT (rarely needed); `command` becomes its arguments. Same forms as `command`, e.g. `["/bin/sh", "-c"]`.',
);

export const Environment = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 256 }), Type.String({ maxLength: 32768 }), {
  maxProperties: 256,
  // Names outside the pattern must be refused, not accepted as unconstrained extras.
  additionalProperties: false,
  description: 'Environment variables for the process.',
});

export const MemoryLimit = Type.String({
  pattern: '^[0-9]{1,13}[bkmgBKMG]?$',
  description: 'Memory limit like `512m` or `1g` (bytes without a unit). Swap is never added.',
  examples: ['512m'],
});

export const NetworkMode = StringEnum(['none', 'bridge'], {
  description: '`none` (default): no network. `bridge` only where the server allows it.',
});

export const PullPolicy = StringEnum(['missing', 'always', 'never'], {
  description: 'When to pull the image: `missing` (default), `always`, or `never`.',
});

/** The smallest CPU share the engine enforces (NanoCpus 10^7); below it a limit would round to none. */
export const MIN_CPUS = 0.01;
/** The smallest timeout, so that it stays at least one millisecond after conversion. */
export const MIN_TIMEOUT_SECONDS = 0.001;

/** Limits and lifecycle settings that every kind of run accepts. */
export const RunLimits = {
  environment: Type.Optional(Environment),
  memory_limit: Type.Optional(MemoryLimit),
  // Minimums keep every limit a limit after conversion: 0.01 CPU is the engine's smallest NanoCpus
  // (10^7); a smaller value would round towards 0, which the engine reads as "no limit".
  cpu_limit: Type.Optional(Type.Number({ minimum: MIN_CPUS, maximum: 64, description: `CPUs, e.g. 0.5 (default 1; at least ${MIN_CPUS}).` })),
  pids_limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: 'Maximum processes (default 256).' })),
  network_mode: Type.Optional(NetworkMode),
  timeout: Type.Optional(
    Type.Number({ minimum: MIN_TIMEOUT_SECONDS, maximum: 86400, description: `Seconds before the run is stopped and reported \`timed_out\` (default 60; at least ${MIN_TIMEOUT_SECONDS}).` }),
  ),
  stdin: Type.Optional(Type.String({ maxLength: 1048576, description: 'Text written to the process standard input, then closed.' })),
  pull_policy: Type.Optional(PullPolicy),
};

/** Fields every run-starting operation accepts besides its own. */
export const RunControl = {
  wait: Type.Optional(
    Type.Boolean({ description: 'Wait for the run to end (default true); false answers at once with the queued run, to follow by its `run_id`.' }),
  ),
  idempotency_key: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'A retry with the same key returns the same run, not another.' }),
  ),
};
