/**
 * What every run shares, said once for the whole server rather than in every tool:
 * the MCP `instructions` of initialize, and the head of the OpenAPI document.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Config } from '../server/config.js';
import { serverFacts } from './operation.js';
import { Command, Entrypoint, ImageReference, RunControl, RunLimits } from '../schemas/common.js';
import { ContainerRunInput } from '../schemas/container-run.js';
import { RunId } from '../schemas/runs.js';
import { SandboxId } from '../schemas/sandboxes.js';

/**
 * Fields many tools accept, with the description their schema gives them. The
 * instructions describe each once; tools/list publishes them without it
 * (server/mcp/advertised-schemas.ts), unless a tool's schema words it its own way.
 */
export const SHARED_FIELDS: ReadonlyMap<string, string> = new Map(
  Object.entries<TSchema>({
    image: ImageReference,
    command: Command,
    entrypoint: Entrypoint,
    working_dir: ContainerRunInput.properties.working_dir,
    user: ContainerRunInput.properties.user,
    read_only: ContainerRunInput.properties.read_only,
    ...RunLimits,
    ...RunControl,
    run_id: RunId,
    sandbox_id: SandboxId,
  }).map(([name, schema]) => [name, schema.description ?? '']),
);

/** The shared fields in one paragraph: `name`: its description. */
const sharedFieldsText = (): string =>
  'Fields several tools take, described once here: ' + [...SHARED_FIELDS].map(([name, description]) => `\`${name}\`: ${description}`).join(' ') +
  ' In tool schemas, `format: image-reference` is Docker\'s image reference grammar and `format: sandbox-id` a lower-case UUID.';

export function serverInstructions(config: Config): string {
  const facts = serverFacts(config);
  const bridge = facts.networked;
  return (
    'Slipway runs containers and code on a container engine, hardened by default. execute_with_payload runs source code in a ' +
    `language preset; execute_docker_container runs a command in any image${config.allowBuilds ? '; build_and_execute_github_repo builds a repository first' : ''}. ` +
    `Every run: no network unless \`network_mode: bridge\`${bridge ? '' : ' (not allowed on this server)'}, read-only root filesystem ` +
    'with a 64 MiB writable /tmp, all capabilities dropped, no privilege escalation, limits on memory, CPU, processes and time. ' +
    `${facts.limits} get_server_info tells the limits your own token may lower. ` +
    '`command` is an argv array, or a string split by shell quoting ' +
    'rules; no shell runs, so `;`, `|`, `&&` and redirections are refused: use `["sh", "-c", "..."]` in an image that has a shell. ' +
    'A run answers with `status` (succeeded, failed, timed_out, oom_killed, cancelled, error), `exit_code`, `stdout` and `stderr` ' +
    '(the first part of each is kept; `*_truncated` says when more was printed), `execution_time` in seconds and `error_message`. ' +
    'A failing program is a normal result with `success: false`, not an error. Output lines arrive as log notifications while a ' +
    'run goes on, and progress notifications when the call has a progressToken. A run call blocks until the run ends (up to its `timeout`); ' +
    'for a long job pass `wait: false`: the answer comes ' +
    'at once with `run_id`; follow it with get_run and get_run_logs, stop it with cancel_run. Retrying with the same ' +
    '`idempotency_key` returns the same run instead of starting another. ' +
    'A sandbox (create_sandbox) is a long-lived hardened container to run many commands in (sandbox_exec) and keep files in ' +
    '(sandbox_write_files, sandbox_read_file, sandbox_list_files). Only files in its writable /workspace persist between commands, ' +
    'not processes; it runs as an unprivileged user. Its memory and CPU are held until delete_sandbox, its `ttl_seconds` or ' +
    `\`idle_timeout_seconds\` without use, whichever comes first; then it and its files are gone. ${facts.sandboxes ?? ''} ` +
    sharedFieldsText()
  );
}
