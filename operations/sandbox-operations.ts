/**
 * The operations on sandboxes: long-lived hardened containers a caller creates, runs many
 * commands in, keeps files in, and deletes (or lets expire). Each exec is a run of kind
 * `exec`, followed, cancelled and looked up like any run.
 */
import { RunResult } from '../schemas/run-result.js';
import {
  CreateSandboxInput,
  DeleteSandboxResult,
  ExtendTtlInput,
  ListFilesInput,
  ListFilesResult,
  ListSandboxesInput,
  ListSandboxesResult,
  ReadFileInput,
  ReadFileResult,
  SandboxExecInput,
  SandboxDetails,
  SandboxRecord,
  SandboxRef,
  WriteFilesInput,
  WriteFilesResult,
} from '../schemas/sandboxes.js';
import { runText } from '../server/mcp/result-text.js';
import { operation } from './operation.js';

const READ_ONLY = () => ({ readOnly: true, openWorld: false });
const CHANGES = () => ({ readOnly: false, destructive: false, idempotent: false, openWorld: false });
const BASE = '/v1/sandboxes/:sandbox_id';
const ID = ['sandbox_id'];

const usageText = ({ usage, usage_unavailable }: SandboxDetails) =>
  usage ? `using ${usage.cpu_seconds} s of CPU so far, ${(usage.memory_bytes / 1048576).toFixed(1)} MiB of memory now` : `usage unknown: ${usage_unavailable}`;
const sandboxText = (s: SandboxRecord) => `sandbox ${s.sandbox_id} (${s.state}, ${s.image}), expires ${s.expires_at}, idle until ${s.idle_expires_at}`;

export const createSandbox = operation({
  name: 'create_sandbox',
  tool: 'create_sandbox',
  title: 'Create a sandbox',
  tag: 'sandboxes',
  description: () =>
    'Create a sandbox: a long-lived, hardened container to run many commands in (sandbox_exec) and keep files in (its /workspace) ' +
    'between them. Required: `image` or `language`. It holds its memory until delete_sandbox, `ttl_seconds` or `idle_timeout_seconds` ' +
    'without use; then it and its files are gone.',
  scope: 'run',
  rest: { method: 'POST', path: '/v1/sandboxes', rest: 'body' },
  input: CreateSandboxInput,
  output: SandboxRecord,
  answer: 'The new sandbox.',
  errors: [404, 502],
  hints: (facts) => ({ readOnly: false, destructive: false, idempotent: false, openWorld: facts.networked }),
  reply: 'json',
  text: sandboxText,
  call: (input, { slipway, caller }) => slipway.createSandbox(input, caller),
});

export const listSandboxes = operation({
  name: 'list_sandboxes',
  tool: 'list_sandboxes',
  title: 'List sandboxes',
  tag: 'sandboxes',
  description: () =>
    'The caller\'s sandboxes, oldest first, with their state, image, labels and when each will be deleted. Read-only; finds a sandbox again.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/sandboxes', rest: 'query' },
  input: ListSandboxesInput,
  output: ListSandboxesResult,
  answer: 'The caller\'s sandboxes.',
  errors: [],
  hints: READ_ONLY,
  reply: 'json',
  text: (r) => (r.sandboxes.length === 0 ? 'no sandboxes' : r.sandboxes.map(sandboxText).join('\n')),
  call: async (_input, { slipway, caller }) => ({ sandboxes: slipway.sandboxes.list(caller) }),
});

export const getSandbox = operation({
  name: 'get_sandbox',
  tool: 'get_sandbox',
  title: 'Look up a sandbox',
  tag: 'sandboxes',
  description: () =>
    'One sandbox by `sandbox_id`: `state`, image, last activity, when it will be deleted (`expires_at`, `idle_expires_at` unless used), ' +
    'and `usage`: CPU seconds and memory now (files in /workspace count as memory). Read-only; looking is not use.',
  scope: 'read',
  rest: { method: 'GET', path: BASE, params: ID, rest: 'query' },
  input: SandboxRef,
  output: SandboxDetails,
  answer: 'The sandbox.',
  errors: [404],
  hints: READ_ONLY,
  reply: 'json',
  text: (s) => `${sandboxText(s)}; ${usageText(s)}`,
  call: (input, { slipway, caller }) => slipway.sandboxes.getWithUsage(input.sandbox_id, caller),
});

export const deleteSandbox = operation({
  name: 'delete_sandbox',
  tool: 'delete_sandbox',
  title: 'Delete a sandbox',
  tag: 'sandboxes',
  description: () =>
    'Delete a sandbox now: its processes, container and every file in /workspace are gone for good (read what you need first). ' +
    'Its execs stay readable with get_run.',
  scope: 'run',
  rest: { method: 'DELETE', path: BASE, params: ID, rest: 'query' },
  input: SandboxRef,
  output: DeleteSandboxResult,
  answer: 'The sandbox was deleted.',
  errors: [404, 502],
  hints: () => ({ readOnly: false, destructive: true, idempotent: false, openWorld: false }),
  reply: 'json',
  text: (r) => `deleted sandbox ${r.sandbox_id}`,
  call: (input, { slipway, caller }) => slipway.sandboxes.delete(input.sandbox_id, caller),
});

export const extendSandboxTtl = operation({
  name: 'extend_sandbox_ttl',
  tool: 'extend_sandbox_ttl',
  title: 'Extend a sandbox\'s lifetime',
  tag: 'sandboxes',
  description: () =>
    'Let a sandbox live `ttl_seconds` from now (at most the server\'s cap), keeping its files and memory that long. The idle timeout still applies.',
  scope: 'run',
  rest: { method: 'POST', path: `${BASE}/ttl`, params: ID, rest: 'body' },
  input: ExtendTtlInput,
  output: SandboxRecord,
  answer: 'The sandbox with its new expiry.',
  errors: [404],
  hints: CHANGES,
  reply: 'json',
  text: sandboxText,
  call: async (input, { slipway, caller }) => slipway.sandboxes.extendTtl(input, caller),
});

export const sandboxExec = operation({
  name: 'sandbox_exec',
  tool: 'sandbox_exec',
  title: 'Run a command in a sandbox',
  tag: 'sandboxes',
  description: () =>
    'Run `command` in a sandbox and return the exit code and output, like execute_docker_container but in the same container: files ' +
    'under /workspace stay for the next command, processes do not (a timed-out or cancelled command is killed with all it started). ' +
    'Required: `sandbox_id`, `command`. A run of kind exec: `wait: false`, get_run, get_run_logs and cancel_run work on it.',
  scope: 'run',
  rest: { method: 'POST', path: `${BASE}/exec`, params: ID, rest: 'body', idempotencyHeader: true },
  input: SandboxExecInput,
  output: RunResult,
  answer: 'The command\'s result.',
  errors: [404, 409, 502],
  hints: CHANGES,
  reply: 'run',
  text: runText,
  call: (input, { slipway, caller, signal, onEvent }) => slipway.sandboxExec(input, { caller, signal, onEvent }),
});

export const sandboxWriteFiles = operation({
  name: 'sandbox_write_files',
  tool: 'sandbox_write_files',
  title: 'Write files into a sandbox',
  tag: 'sandboxes',
  description: () =>
    'Write `files` (path relative to /workspace, content as text or base64) into a sandbox, creating directories and replacing files. ' +
    'Paths with `..` or through symbolic links are refused; a full workspace is a 413.',
  scope: 'run',
  rest: { method: 'POST', path: `${BASE}/files`, params: ID, rest: 'body' },
  input: WriteFilesInput,
  output: WriteFilesResult,
  answer: 'The files written.',
  errors: [404, 409, 413, 502],
  hints: () => ({ readOnly: false, destructive: true, idempotent: true, openWorld: false }),
  reply: 'json',
  text: (r) => `wrote ${r.written.map((w) => `${w.path} (${w.bytes} bytes)`).join(', ')}`,
  call: (input, { slipway, caller }) => slipway.writeSandboxFiles(input, caller),
});

export const sandboxReadFile = operation({
  name: 'sandbox_read_file',
  tool: 'sandbox_read_file',
  title: 'Read a file in a sandbox',
  tag: 'sandboxes',
  description: () =>
    'Read one file under /workspace of a sandbox: UTF-8 text as is, anything else base64 (`encoding`); a large file only its head ' +
    '(`truncated`, whole `size`). Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: `${BASE}/files/content`, params: ID, rest: 'query' },
  input: ReadFileInput,
  output: ReadFileResult,
  answer: 'The file\'s content.',
  errors: [404, 409, 502],
  hints: READ_ONLY,
  reply: 'json',
  text: (r) => (r.encoding === 'utf8' ? r.content : `${r.path}: ${r.size} bytes of binary (base64 in structured content)`),
  call: (input, { slipway, caller }) => slipway.readSandboxFile(input, caller),
});

export const sandboxListFiles = operation({
  name: 'sandbox_list_files',
  tool: 'sandbox_list_files',
  title: 'List a directory in a sandbox',
  tag: 'sandboxes',
  description: () =>
    'The entries of a directory under /workspace of a sandbox (`path`, default /workspace): name, type, size, modification time; ' +
    'links shown, not followed; a long listing is cut (`truncated`). Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: `${BASE}/files`, params: ID, rest: 'query' },
  input: ListFilesInput,
  output: ListFilesResult,
  answer: 'The directory\'s entries.',
  errors: [404, 409, 502],
  hints: READ_ONLY,
  reply: 'json',
  text: (r) => [`${r.path}:`, ...r.entries.map((e) => `${e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${e.size} ${e.name}`)].join('\n'),
  call: (input, { slipway, caller }) => slipway.listSandboxFiles(input, caller),
});

export const SANDBOX_OPERATIONS = [
  createSandbox,
  listSandboxes,
  getSandbox,
  deleteSandbox,
  extendSandboxTtl,
  sandboxExec,
  sandboxWriteFiles,
  sandboxReadFile,
  sandboxListFiles,
];
