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
  {},
);

/** The error replies every operation route can give, for the OpenAPI document. */
export const errorReplies = {
  400: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  502: ErrorReply,
  503: ErrorReply,
};
