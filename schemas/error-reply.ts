import { Type } from '@sinclair/typebox';

/** Body of every REST error reply. */
export const ErrorReply = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code from the error catalogue, e.g. SLIPWAY_ERR_INVALID_INPUT.' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The input field at fault, e.g. `files[1].path`.' })),
    }),
  },
  { $id: 'ErrorReply' },
);
