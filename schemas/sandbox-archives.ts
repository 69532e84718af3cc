/** A directory of a sandbox as a tar, in (upload) and out (download): REST only (operations/archive-operations.ts). */
import { Type, type Static } from '@sinclair/typebox';
import { EXAMPLE_ID, SandboxId, WorkspacePath } from './sandboxes.js';

export const ArchiveInput = Type.Object(
  {
    sandbox_id: SandboxId,
    path: Type.Optional(WorkspacePath('The directory the archive is unpacked into, or packed from: relative to /workspace or absolute under it (default: /workspace itself).')),
  },
  { additionalProperties: false, examples: [{ sandbox_id: EXAMPLE_ID, path: 'src' }] },
);
export type ArchiveInput = Static<typeof ArchiveInput>;

export const UploadArchiveResult = Type.Object(
  {
    sandbox_id: Type.String(),
    path: Type.String({ description: 'The directory the archive was unpacked into.' }),
    entries: Type.Integer({ description: 'Files, directories and links unpacked.' }),
    bytes: Type.Integer({ description: 'Bytes of file content unpacked.' }),
  },
  { additionalProperties: false },
);
export type UploadArchiveResult = Static<typeof UploadArchiveResult>;
