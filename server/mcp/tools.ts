/**
 * The MCP tool table: each tool publishes the TypeBox schemas the REST door validates
 * with (one source, schemas/) and calls the same lib/ method its REST twin calls.
 * Descriptions are written for a model choosing a tool, so they carry this server's
 * actual defaults and caps (from its configuration), what a call costs, and how to
 * read the result.
 *
 * Only implemented tools are listed. The run tools (get_run, get_run_logs, cancel_run)
 * live in run-tools.ts.
 */
import type { TObject } from '@sinclair/typebox';
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import type { Caller } from '../../lib/caller.js';
import type { Slipway } from '../../lib/slipway.js';
import type { Scope } from '../tokens.js';
import { ContainerRunInput } from '../../schemas/container-run.js';
import { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../../schemas/containers.js';
import { PullImageInput, PullImageResult } from '../../schemas/images.js';
import { PayloadRunInput } from '../../schemas/payload-run.js';
import { mergePresets } from '../../lib/language-presets.js';
import { languageTools } from './language-tools.js';
import { RunResult } from '../../schemas/run-result.js';
import type { RunNotifier } from './notifications.js';
import { listText, pullText, runText, stopText } from './result-text.js';
import { repoTools } from './repo-tools.js';
import { runTools } from './run-tools.js';
import { conformanceTools } from './conformance-tools.js';

export interface ToolContext {
  slipway: Slipway;
  /** Who is calling (server/auth.ts); the open caller on a server without tokens. */
  caller: Caller;
  /** Aborted by `notifications/cancelled` for this call (or by the session ending). */
  signal: AbortSignal;
  notifier: RunNotifier;
}

export interface ToolOutcome {
  structured: Record<string, unknown>;
  text: string;
}

export interface SlipwayTool {
  name: string;
  /** The token scope a call needs (admin has every scope). */
  scope: Scope;
  input: TObject;
  output: TObject;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  /** `input` has been validated against the input schema. */
  call(input: unknown, ctx: ToolContext): Promise<ToolOutcome>;
}

const MIB = 1024 * 1024;

/** The limits paragraph shared by both run tools, from this server's policy. */
function limitsText(config: Config): string {
  const { defaults: d, caps: c } = config;
  const bridge = config.networkModes.includes('bridge');
  return (
    `Sandbox: no network by default (\`network_mode: none\`${bridge ? '; `bridge` gives internet access' : '; this server allows no other'}), ` +
    `read-only root filesystem with a 64 MiB writable /tmp, all capabilities dropped, no privilege escalation. ` +
    `Defaults: ${Math.round(d.memoryBytes / MIB)}m memory, ${d.cpus} CPU, ${d.pidsLimit} processes, ${d.timeoutSeconds} s timeout; ` +
    `caps: ${Math.round(c.memoryBytes / MIB)}m, ${c.cpus} CPUs, ${c.pidsLimit} processes, ${c.timeoutSeconds} s (asking for more is refused, not clamped).`
  );
}

const RESULT_TEXT =
  'Result: `status` (succeeded, failed, timed_out, oom_killed, cancelled), `exit_code`, `stdout` and `stderr` (the first part of each is kept; ' +
  '`stdout_truncated`/`stderr_truncated` say when more was printed), `execution_time` in seconds, `error_message` when it did not succeed. ' +
  'A non-zero exit is a normal result with `success: false`, not a tool error. While it runs, output lines arrive as log notifications ' +
  'and progress notifications are sent when the call has a progressToken. For a long job pass `wait: false`: the answer comes at once ' +
  'with `run_id` and status `queued`; follow it with get_run and get_run_logs, stop it with cancel_run. Retrying with the same ' +
  '`idempotency_key` returns the same run instead of starting another.';

const COMMAND_TEXT =
  '`command` is an argv array, or a string split by shell quoting rules; no shell runs, so `;`, `|`, `&&` and redirections are refused: ' +
  'use `["sh", "-c", "..."]` in an image that has a shell.';

export function slipwayTools(config: Config): SlipwayTool[] {
  const networked = config.networkModes.includes('bridge');
  const presets = Object.keys(mergePresets(config.languagePresets)).join(', ');
  return [
    {
      name: 'execute_docker_container',
      scope: 'run',
      title: 'Run a container',
      description:
        'Run a command in a fresh container from a Docker image, wait for it to end, and return its exit code and output; the container ' +
        'is always removed afterwards. Use it for a one-off command in a given image (e.g. image `python:3.12-slim`, command ' +
        '`python3 -c \'print(2+2)\'`); to run code you have as text, execute_with_payload is simpler. ' +
        `${COMMAND_TEXT} ${limitsText(config)} ` +
        'Cost: the call blocks for the whole run (up to `timeout`; not with `wait: false`), plus an image pull when the image is missing (`pull_policy`, default `missing`). ' +
        RESULT_TEXT,
      input: ContainerRunInput,
      output: RunResult,
      // Creates and removes only its own container; the open world is reached only where the server lets containers have a network.
      annotations: { title: 'Run a container', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: networked },
      async call(input, { slipway, caller, signal, notifier }) {
        const result = await slipway.runImage(input as ContainerRunInput, { caller, signal, onEvent: notifier.onEvent });
        return { structured: result, text: runText(result) };
      },
    },
    {
      name: 'execute_with_payload',
      scope: 'run',
      title: 'Run code',
      description:
        'Run source code: write `files` (or one `payload`) into /workspace of a fresh container and run them, then return the exit code and ' +
        `output. With \`language\` (${presets}; list_languages shows each one's image and command) the server picks the image, the file name and the command: \`{"language": "python", ` +
        '"payload": "print(2+2)"}` runs main.py. Otherwise give `image` and `command` (and `payload_path` for a single payload). ' +
        `The code runs as an unprivileged user (${config.payloadUser}); the files in /workspace are readable but not writable, and only /tmp (64 MiB) is writable. ` +
        `${limitsText(config)} Cost: the call blocks for the whole run (up to \`timeout\`; not with \`wait: false\`), plus an image pull the first time. ${RESULT_TEXT}`,
      input: PayloadRunInput,
      output: RunResult,
      annotations: { title: 'Run code', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: networked },
      async call(input, { slipway, caller, signal, notifier }) {
        const result = await slipway.runPayload(input as PayloadRunInput, { caller, signal, onEvent: notifier.onEvent });
        return { structured: result, text: runText(result) };
      },
    },
    ...repoTools(config),
    ...runTools(),
    ...languageTools(),
    ...conformanceTools(config),
    {
      name: 'list_running_containers',
      scope: 'read',
      title: 'List containers',
      description:
        'List the containers this Slipway server created that still exist (runs under way, usually), with id, name, image, state, status, ' +
        'creation time, labels and `run_id`. Filter with `state` (e.g. `running`). `all_engine: true` lists every container on the engine, ' +
        'only where the server allows it. Cheap and read-only. Use it to find a container to pass to stop_container.',
      input: ListContainersInput,
      output: ListContainersResult,
      annotations: { title: 'List containers', readOnlyHint: true, openWorldHint: false },
      async call(input, { slipway, caller }) {
        const result = await slipway.listContainers(input as ListContainersInput, caller);
        return { structured: result, text: listText(result) };
      },
    },
    {
      name: 'stop_container',
      scope: 'run',
      title: 'Stop a container',
      description:
        'Stop a container this server created: SIGTERM, then SIGKILL after `timeout` seconds (default 10). The run it belonged to ends ' +
        '`cancelled`, its call returns that, and the container is removed. `container_id` is an id (full or short) or a name from ' +
        'list_running_containers, or a run id; containers the server did not create are reported as not found. Stopping one that already ended is not ' +
        'an error (`was_running: false`). Result: `success`, the full `container_id`, `was_running`, `run_id`.',
      input: StopContainerInput,
      output: StopContainerResult,
      annotations: { title: 'Stop a container', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async call(input, { slipway, caller }) {
        const result = await slipway.stopContainer(input as StopContainerInput, caller);
        return { structured: result, text: stopText(result) };
      },
    },
    {
      name: 'pull_docker_image',
      scope: 'pull',
      title: 'Pull an image',
      description:
        'Pull an image from its registry into the engine, so later runs start without waiting for it (runs pull missing images themselves, ' +
        'so this is optional). `image` is a reference like `python:3.12-slim` or `registry.example.com/team/tool:1.2`; without a tag, ' +
        '`latest` is pulled. Registry credentials come from the server configuration only. Cost: network and disk, from seconds to minutes ' +
        'for large images; progress notifications follow the layers when the call has a progressToken. Result: `image` (with its tag), ' +
        '`image_id`, `digest`, `pull_time` in seconds.',
      input: PullImageInput,
      output: PullImageResult,
      annotations: { title: 'Pull an image', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async call(input, { slipway, caller, signal, notifier }) {
        const result = await slipway.pullImage(input as PullImageInput, { onProgress: notifier.onPull, caller, signal });
        return { structured: result, text: pullText(result) };
      },
    },
  ];
}

/** The `tools/list` entry of a tool: its TypeBox schemas are JSON Schema as they are. */
export function toolListing(tool: SlipwayTool): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.input,
    outputSchema: tool.output,
    annotations: tool.annotations,
  };
}
