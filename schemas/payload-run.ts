import { Type, type Static } from '@sinclair/typebox';
import { Command, ImageReference, RunLimits, RunControl } from './common.js';

export const PayloadFile = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 255, description: 'Relative path inside the working directory, e.g. `main.py` or `pkg/util.py`.' }),
    content: Type.String({ maxLength: 8 * 1024 * 1024 }),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'How `content` is encoded (default utf8).' })),
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777, description: 'Permission bits; only the executable bit is honoured: any x bit gives 0755, else 0644 (files are root-owned and never writable by the run).' })),
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
      Type.String({ minLength: 1, maxLength: 64, description: 'Language preset (image, file name and command chosen by the server), e.g. `python`; GET /v1/languages or list_languages names them.' }),
    ),
    image: Type.Optional(ImageReference),
    command: Type.Optional(Command),
    ...RunLimits,
    ...RunControl,
  },
  { additionalProperties: false },
);
export type PayloadRunInput = Static<typeof PayloadRunInput>;
