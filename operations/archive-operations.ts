/**
 * A sandbox's directory as a tar archive, in and out: REST only (operations/rest-only-operation.ts),
 * since MCP tool calls carry JSON; sandbox_write_files, sandbox_read_file and
 * sandbox_list_files do the same jobs there, file by file.
 */
import { posix } from 'node:path';
import { ArchiveInput, UploadArchiveResult } from '../schemas/sandbox-archives.js';
import { restOnlyOperation, type StreamedAnswer } from './rest-only-operation.js';

const PATH = '/v1/sandboxes/:sandbox_id/files/archive';
const bound = (facts: { sandboxes?: string | undefined }) => (facts.sandboxes ? ` ${facts.sandboxes}` : '');

export const uploadSandboxArchive = restOnlyOperation({
  name: 'upload_sandbox_archive',
  title: 'Upload a tar archive into a sandbox',
  tag: 'sandboxes',
  description: (facts) =>
    'Unpack an uncompressed tar (body, `Content-Type: application/x-tar`) into a directory of a sandbox\'s /workspace (`path`, ' +
    'default /workspace), replacing files of the same names. Only files, directories and relative symbolic links that stay in ' +
    '/workspace are accepted; absolute paths, `..`, hard links, devices, links pointing out, and paths through a link (one the ' +
    'archive makes, or one already in the workspace) are refused with a 400 naming the entry, before anything is written. ' +
    'Owners and setuid bits are not kept: the sandbox user owns what it unpacks. A body over SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES ' +
    `is a 413, and so is a full workspace.${bound(facts)}`,
  restOnly: 'its body is a tar archive, which MCP\'s JSON tool calls cannot carry; sandbox_write_files writes files on both doors',
  scope: 'run',
  rest: { method: 'PUT', path: PATH, params: ['sandbox_id'] },
  input: ArchiveInput,
  body: {
    contentType: 'application/x-tar',
    description: 'An uncompressed tar archive (ustar, GNU or pax headers).',
    maxBytes: (config) => config.sandboxes.archiveMaxBytes,
    perCaller: (config) => config.sandboxes.archiveUploadsPerCaller,
  },
  output: { json: UploadArchiveResult, answer: 'The archive was unpacked.' },
  errors: [404, 409, 413, 502],
  call: (input, { slipway, caller, body }) => slipway.uploadSandboxArchive(input, body ?? Buffer.alloc(0), caller),
});

export const downloadSandboxArchive = restOnlyOperation({
  name: 'download_sandbox_archive',
  title: 'Download a directory of a sandbox as a tar archive',
  tag: 'sandboxes',
  description: () =>
    'A directory of a sandbox\'s /workspace (`path`, default /workspace) as an uncompressed tar, streamed, with entries relative ' +
    'to that directory. Symbolic links are archived as links, never followed; a `path` that leads out of /workspace is refused. ' +
    'A directory holding more than SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES is a 413 before any byte is sent; if it grows past that while ' +
    'being sent, the connection is cut before the archive\'s end, so a cut archive never looks complete. Read-only.',
  restOnly: 'its answer is a tar archive, which MCP\'s JSON tool results cannot carry; sandbox_read_file and sandbox_list_files read on both doors',
  scope: 'read',
  rest: { method: 'GET', path: PATH, params: ['sandbox_id'] },
  input: ArchiveInput,
  output: { stream: { contentType: 'application/x-tar', description: 'The directory as an uncompressed tar archive.' } },
  errors: [404, 409, 413, 502],
  call: async (input, { slipway, caller }): Promise<StreamedAnswer> => {
    const { path, tar } = await slipway.downloadSandboxArchive(input, caller);
    return { stream: tar, fileName: `${posix.basename(path)}.tar` };
  },
});

export const ARCHIVE_OPERATIONS = [uploadSandboxArchive, downloadSandboxArchive];
