/**
 * The short text block beside each tool's structuredContent, for MCP clients (and
 * models) that read only text: how it ended first, then the tail of the output, since
 * the end of a log is where a failure usually shows.
 */
import type { ListContainersResult, StopContainerResult } from '../../schemas/containers.js';
import type { PullImageResult } from '../../schemas/images.js';
import type { RunResult } from '../../schemas/run-result.js';
import type { ListRunsResult, RunLogsResult } from '../../schemas/runs.js';

const TAIL_LINES = 20;
const TAIL_CHARS = 2000;
const LISTED_CONTAINERS = 50;

/** The last lines of `text`, at most TAIL_LINES and TAIL_CHARS, saying what was left out. */
export function tail(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  let kept = lines.slice(-TAIL_LINES).join('\n');
  if (kept.length > TAIL_CHARS) kept = kept.slice(-TAIL_CHARS);
  const omitted = text.length - kept.length > 1 ? `[... ${lines.length > TAIL_LINES ? `${lines.length - TAIL_LINES} earlier lines` : 'earlier output'} omitted]\n` : '';
  return omitted + kept;
}

const mebibytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

export function runText(r: RunResult): string {
  const exit = r.exit_code === null ? 'no exit code' : `exit code ${r.exit_code}`;
  const head = [`status: ${r.status}, ${exit}, ${r.execution_time} s`, `run ${r.run_id}, image ${r.image}`];
  if (r.resource_usage) head.push(`used ${r.resource_usage.cpu_seconds} s of CPU, memory peak ${mebibytes(r.resource_usage.memory_peak_bytes)} MiB`);
  if (r.error_message) head.push(`error: ${r.error_message}`);
  const blocks = [head.join('\n')];
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = r[stream];
    if (text === '') continue;
    const truncated = r[`${stream}_truncated`] ? ' (the run printed more than was kept)' : '';
    blocks.push(`${stream}${truncated}:\n${tail(text)}`);
  }
  if (r.stdout === '' && r.stderr === '') blocks.push('(no output)');
  return blocks.join('\n\n');
}

export function listText(r: ListContainersResult): string {
  const n = r.containers.length;
  if (n === 0) return 'no containers';
  const lines = r.containers
    .slice(0, LISTED_CONTAINERS)
    .map((c) => `${c.id.slice(0, 12)} ${c.name} ${c.image} ${c.state} (${c.status})${c.run_id ? ` run ${c.run_id}` : ''}`);
  if (n > LISTED_CONTAINERS) lines.push(`... and ${n - LISTED_CONTAINERS} more (all are in the structured result)`);
  return [`${n} container${n === 1 ? '' : 's'}:`, ...lines].join('\n');
}

export function stopText(r: StopContainerResult): string {
  const what = r.was_running ? 'stopped' : 'was not running:';
  const run = r.run_id ? (r.was_running ? ` (run ${r.run_id} ends cancelled)` : ` (run ${r.run_id})`) : '';
  return `${what} container ${r.container_id.slice(0, 12)}${run}`;
}

export function pullText(r: PullImageResult): string {
  return `pulled ${r.image} (${r.image_id.replace(/^sha256:/, '').slice(0, 12)}${r.digest ? `, ${r.digest}` : ''}) in ${r.pull_time.toFixed(1)} s`;
}

export function runsText(r: ListRunsResult): string {
  if (r.runs.length === 0) return 'no runs';
  const lines = r.runs.map((run) => `${run.run_id} ${run.kind} ${run.status} ${run.image} created ${run.created_at}`);
  if (r.next_cursor) lines.push(`more: pass cursor ${r.next_cursor}`);
  return lines.join('\n');
}

export function logPageText(page: RunLogsResult): string {
  const output = page.events.filter((e) => e.type === 'stdout' || e.type === 'stderr').map((e) => String(e.data)).join('');
  return `run ${page.run_id}: ${page.status}, ${page.events.length} events up to id ${page.last_event_id}${page.complete ? ', complete' : ''}\n${output}`;
}
