/**
 * What every run shares, said once for the whole server rather than in every tool:
 * the MCP `instructions` of initialize, and the head of the OpenAPI document.
 */
import type { Config } from '../server/config.js';

export function serverInstructions(config: Config): string {
  const bridge = config.networkModes.includes('bridge');
  return (
    'Slipway runs containers and code on a container engine, hardened by default. execute_with_payload runs source code in a ' +
    `language preset; execute_docker_container runs a command in any image${config.allowBuilds ? '; build_and_execute_github_repo builds a repository first' : ''}. ` +
    `Every run: no network unless \`network_mode: bridge\`${bridge ? '' : ' (not allowed on this server)'}, read-only root filesystem ` +
    'with a 64 MiB writable /tmp, all capabilities dropped, no privilege escalation, limits on memory, CPU, processes and time ' +
    '(each run operation states this server\'s defaults and caps). `command` is an argv array, or a string split by shell quoting ' +
    'rules; no shell runs, so `;`, `|`, `&&` and redirections are refused: use `["sh", "-c", "..."]` in an image that has a shell. ' +
    'A run answers with `status` (succeeded, failed, timed_out, oom_killed, cancelled, error), `exit_code`, `stdout` and `stderr` ' +
    '(the first part of each is kept; `*_truncated` says when more was printed), `execution_time` in seconds and `error_message`. ' +
    'A failing program is a normal result with `success: false`, not an error. Output lines arrive as log notifications while a ' +
    'run goes on, and progress notifications when the call has a progressToken. For a long job pass `wait: false`: the answer comes ' +
    'at once with `run_id`; follow it with get_run and get_run_logs, stop it with cancel_run. Retrying with the same ' +
    '`idempotency_key` returns the same run instead of starting another.'
  );
}
