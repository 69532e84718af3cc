/**
 * The operations that start a run: an image, a code payload, a git repository. Each
 * answers with the run's result (or, with `wait: false`, at once with its record).
 * What every run shares (the sandbox, how to read a result, following a run) is said
 * once, in the server's instructions (operations/instructions.ts).
 */
import { ContainerRunInput } from '../schemas/container-run.js';
import { PayloadRunInput } from '../schemas/payload-run.js';
import { RepoRunInput, RepoRunResult } from '../schemas/repo-run.js';
import { PayloadRunResult, RunResult } from '../schemas/run-result.js';
import { runText } from '../server/mcp/result-text.js';
import { operation, type ErrorStatus, type ServerFacts } from './operation.js';

const RUN_ERRORS: ErrorStatus[] = [404, 409, 413, 502];
const runHints = (facts: ServerFacts) => ({ readOnly: false, destructive: false, idempotent: false, openWorld: facts.networked });

export const runImage = operation({
  name: 'run_image',
  tool: 'execute_docker_container',
  title: 'Run a container',
  tag: 'runs',
  description: () =>
    'Run a command in a fresh, hardened container from any image and return its exit code and output; the container is always removed. ' +
    'E.g. `{"image": "python:3.12-slim", "command": ["python3", "-c", "print(2+2)"]}`. To run source code you have as text, ' +
    'execute_with_payload is simpler. Required: `image`. A missing image is pulled first (`pull_policy`).',
  scope: 'run',
  rest: { method: 'POST', path: '/v1/containers/run', rest: 'body', idempotencyHeader: true },
  input: ContainerRunInput,
  output: RunResult,
  answer: 'The run\'s result.',
  errors: RUN_ERRORS,
  hints: runHints,
  reply: 'run',
  text: runText,
  call: (input, { slipway, caller, signal, onEvent }) => slipway.runImage(input, { caller, signal, onEvent }),
});

export const runPayload = operation({
  name: 'run_payload',
  tool: 'execute_with_payload',
  title: 'Run code',
  tag: 'runs',
  description: (facts) =>
    'Run source code: write `files` (or one `payload`) into /workspace of a fresh container, run them, and return the exit code and output. ' +
    `Required: \`files\` or \`payload\`, and either \`language\` (${facts.languages.join(', ')}: the server picks image, file name and command; ` +
    '`{"language": "python", "payload": "print(2+2)"}` runs main.py) or `image` with `command`. ' +
    `Runs as an unprivileged user (${facts.payloadUser}); /workspace and /tmp are writable (bounded); \`return_files\` names files to hand back.`,
  scope: 'run',
  rest: { method: 'POST', path: '/v1/payloads/run', rest: 'body', idempotencyHeader: true },
  input: PayloadRunInput,
  output: PayloadRunResult,
  answer: 'The run\'s result.',
  errors: RUN_ERRORS,
  hints: runHints,
  reply: 'run',
  text: runText,
  call: (input, { slipway, caller, signal, onEvent }) => slipway.runPayload(input, { caller, signal, onEvent }),
});

export const runRepo = operation({
  name: 'run_repo',
  tool: 'build_and_execute_github_repo',
  title: 'Build and run a git repository',
  tag: 'runs',
  description: (facts) =>
    'Clone a git repository over https (`repo_url` at `ref`; shallow, no submodules), build its Dockerfile (`context_path`, `dockerfile_path`, ' +
    `\`build_args\`, \`target\`; ${facts.buildNetwork ? 'with' : 'without'} network, bounded), then run the image like execute_docker_container. ` +
    'Required: `repo_url`. Builds are cached by repository, commit, Dockerfile and arguments (`cache_hit`). The result adds `commit_sha`, ' +
    '`image_tag`, `image_id`, `build_time`, `cache_hit`, the end of `build_log`; a failing build ends `failed` with the failing step in `stderr`.',
  scope: 'build',
  rest: { method: 'POST', path: '/v1/repos/run', rest: 'body', idempotencyHeader: true },
  input: RepoRunInput,
  output: RepoRunResult,
  answer: 'The run\'s result, with its build.',
  errors: [...RUN_ERRORS, 504],
  hints: () => ({ readOnly: false, destructive: false, idempotent: false, openWorld: true }),
  reply: 'run',
  text: (result) => runText(result) + (result.commit_sha ? `\ncommit ${result.commit_sha}, image ${result.image_tag}${result.cache_hit ? ' (cached)' : ''}` : ''),
  offered: (facts) => facts.allowBuilds,
  call: (input, { slipway, caller, signal, onEvent }) => slipway.runRepo(input, { caller, signal, onEvent }),
});
