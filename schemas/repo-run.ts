/**
 * build_and_execute_github_repo / POST /v1/repos/run: a repository to build, then the
 * same run fields as an image run. The schema bounds sizes and forbids shell text;
 * lib/ applies the URL policy, git's ref grammar and the path rules (400/403 naming
 * the field), so both doors refuse alike.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BUILD_ARG_NAME_PATTERN, BUILD_ARG_VALUE_MAX_BYTES, BUILD_ARGS_MAX, TARGET_PATTERN } from '../lib/build-inputs.js';
import { Command, Entrypoint, RunLimits, RunControl } from './common.js';
import { Nullable } from './compact.js';
import { ContainerRunInput } from './container-run.js';
import { RunResult } from './run-result.js';

const NO_WHITESPACE_OR_CONTROL = '^[^\\s\\u0000-\\u001f\\u007f]+$';
const RELATIVE_PATH = '^[^\\u0000\\\\]*$';

// The image is built here, never pulled: an image run's pull_policy has no meaning.
const { pull_policy: _pullPolicy, ...RepoRunLimits } = RunLimits;

export const BuildArgs = Type.Record(
  Type.String({ pattern: BUILD_ARG_NAME_PATTERN, maxLength: 256 }),
  Type.String({ maxLength: BUILD_ARG_VALUE_MAX_BYTES }),
  {
    maxProperties: BUILD_ARGS_MAX,
    // Names outside the pattern must be refused, not accepted as unconstrained extras.
    additionalProperties: false,
    description: 'Dockerfile ARG values, e.g. `{"VERSION": "1.2"}`.',
  },
);

/** The build half of the input: where the Dockerfile is and how to build it. */
export const RepoBuildFields = {
  repo_url: Type.String({
    minLength: 1,
    maxLength: 2048,
    pattern: NO_WHITESPACE_OR_CONTROL,
    description:
      'An https git URL, e.g. `https://github.com/owner/repo.git`; other schemes, credentials in the URL, and private or loopback ' +
      'hosts are refused unless the server allows them.',
    examples: ['https://github.com/owner/repo.git'],
  }),
  ref: Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, pattern: NO_WHITESPACE_OR_CONTROL, description: "A branch, tag or commit SHA (full or abbreviated); default: the remote's default branch." }),
  ),
  context_path: Type.Optional(
    Type.String({ maxLength: 1024, pattern: RELATIVE_PATH, description: 'Build context directory, relative to the repository root, without `..` (default: the root).' }),
  ),
  dockerfile_path: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1024, pattern: RELATIVE_PATH, default: 'Dockerfile', description: 'The Dockerfile, relative to the build context (default `Dockerfile`).' }),
  ),
  build_args: Type.Optional(BuildArgs),
  target: Type.Optional(Type.String({ pattern: TARGET_PATTERN, description: 'Stage of a multi-stage Dockerfile to build.' })),
};

/** Input of build_and_execute_github_repo / POST /v1/repos/run. */
export const RepoRunInput = Type.Object(
  {
    ...RepoBuildFields,
    command: Type.Optional(Command),
    entrypoint: Type.Optional(Entrypoint),
    working_dir: ContainerRunInput.properties.working_dir,
    user: ContainerRunInput.properties.user,
    read_only: ContainerRunInput.properties.read_only,
    ...RepoRunLimits,
    ...RunControl,
  },
  { additionalProperties: false, examples: [{ repo_url: 'https://github.com/you/your-app.git', build_args: { GREETING: 'hi' } }] },
);
export type RepoRunInput = Static<typeof RepoRunInput>;

/** What a repo run adds to a RunResult; compose with `Type.Composite([RunResult, RepoBuildResult])`. */
export const RepoBuildResult = Type.Object(
  {
    commit_sha: Type.String({ description: 'The commit built.' }),
    image_id: Nullable(Type.String(), { description: 'Null when the build failed.' }),
    image_tag: Type.String(),
    build_time: Type.Number({ description: 'Seconds to clone and build.' }),
    cache_hit: Type.Boolean({ description: 'An earlier build of the same inputs was used.' }),
    build_log: Type.String({ description: 'The end of the build output.' }),
  },
  { additionalProperties: false },
);
export type RepoBuildResult = Static<typeof RepoBuildResult>;

/** A repo run's answer: the run's result and its build (absent only while queued). */
export const RepoRunResult = Type.Composite([RunResult, Type.Partial(RepoBuildResult)], { additionalProperties: false });
export type RepoRunResult = Static<typeof RepoRunResult>;
