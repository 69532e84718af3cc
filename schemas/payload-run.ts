import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './compact.js';
import { ArgvField, ImageReference, RunLimits, RunControl } from './common.js';

export const PayloadFile = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 255, description: 'Relative path inside the working directory, e.g. `main.py` or `pkg/util.py`.' }),
    content: Type.String({ maxLength: 8 * 1024 * 1024 }),
    encoding: Type.Optional(StringEnum(['utf8', 'base64'], { description: 'How `content` is encoded: `utf8` (default) or `base64` for binary files.' })),
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777, description: 'Permission bits, e.g. 493 (0755); only the executable bit is honoured: any x bit gives 0755, else 0644 (files belong to the run\'s user, which may change them).' })),
  },
  { additionalProperties: false },
);
export type PayloadFile = Static<typeof PayloadFile>;

/** Input of execute_with_payload / POST /v1/payloads/run. */
export const PayloadRunInput = Type.Object(
  {
    files: Type.Optional(Type.Array(PayloadFile, { minItems: 1, maxItems: 200, description: 'Files written into the working directory before the run.' })),
    payload: Type.Optional(Type.String({ maxLength: 8 * 1024 * 1024, description: 'A single file\'s content (the original API); see `payload_path`.' })),
    payload_path: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Where `payload` goes (default: the language preset\'s file name).' })),
    // A name, not an enum: the server's configuration can add languages (GET /v1/languages lists them).
    language: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Language preset, e.g. `python`: the server picks image, file name and command; list_languages names them.' }),
    ),
    image: Type.Optional(ImageReference),
    command: Type.Optional(
      ArgvField('What to run in /workspace, e.g. `["python3", "main.py"]`; required with `image`, default the language preset\'s. No shell runs.'),
    ),
    return_files: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
        minItems: 1,
        maxItems: 32,
        description: 'Paths or globs (`out/*.png`) in /workspace to return in `files`.',
      }),
    ),
    ...RunLimits,
    ...RunControl,
  },
  { additionalProperties: false, examples: [{ language: 'python', payload: 'print("hello from a payload")', timeout: 30 }] },
);
export type PayloadRunInput = Static<typeof PayloadRunInput>;
