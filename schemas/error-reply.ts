import { Type, type TSchema } from '@sinclair/typebox';

/** Body of every REST error reply. */
export const ErrorReply = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code from the error catalogue, e.g. SLIPWAY_ERR_INVALID_INPUT.' }),
      message: Type.String({ description: 'What went wrong and, for bad input, what is accepted.' }),
      field: Type.Optional(Type.String({ description: 'The input field at fault, e.g. `files[1].path`.' })),
    }),
  },
  {},
);

/** What each error status means, for the OpenAPI document. */
export const ERROR_MEANINGS = {
  400: 'Invalid input: `error.field` names the field and the message says what is accepted. Nothing was created.',
  401: 'No bearer token, or one this server does not know (only where tokens are configured).',
  403: 'The token lacks the scope, or the server\'s policy refuses the request (`error.field` names what).',
  404: 'Not found, or not the caller\'s: the run, container, image, repository or ref named by `error.field`.',
  409: 'Conflict: the run has already ended, or the idempotency key was used for a different request.',
  413: 'Too large: the request body, or the repository or its build context.',
  429: 'Too many requests, runs or streams for this caller or this server; try again after `Retry-After` seconds.',
  502: 'The container engine or the git remote failed; the message says what it reported.',
  503: 'The container engine is not reachable, or the server is at capacity; try again later.',
  504: 'The git remote did not answer in time.',
} as const;

export type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** A schema with the description the OpenAPI document shows for its response. */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

/** The documented error replies for `statuses`. */
export function errorReplies(statuses: readonly ErrorStatus[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, described(ErrorReply, ERROR_MEANINGS[status])]));
}
