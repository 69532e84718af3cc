/**
 * The one error catalogue. Every failure a caller can see is a SlipwayError with a
 * stable code; the HTTP status lives beside the code here, and server/error-reply.ts
 * turns it into a REST reply or an MCP result in one place. Codes are never reused.
 */
export const ERROR_CATALOGUE = {
  SLIPWAY_ERR_INVALID_INPUT: { status: 400, title: 'Invalid input' },
  SLIPWAY_ERR_UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  SLIPWAY_ERR_POLICY_DENIED: { status: 403, title: 'Denied by policy' },
  SLIPWAY_ERR_SCOPE_MISSING: { status: 403, title: 'Missing scope' },
  SLIPWAY_ERR_CONTAINER_NOT_FOUND: { status: 404, title: 'Container not found' },
  SLIPWAY_ERR_IMAGE_NOT_FOUND: { status: 404, title: 'Image not found' },
  SLIPWAY_ERR_RUN_NOT_FOUND: { status: 404, title: 'Run not found' },
  SLIPWAY_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'Not found' },
  SLIPWAY_ERR_CONFLICT: { status: 409, title: 'Conflict' },
  SLIPWAY_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  SLIPWAY_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  SLIPWAY_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  SLIPWAY_ERR_ENGINE: { status: 502, title: 'Docker engine error' },
  SLIPWAY_ERR_ENGINE_UNAVAILABLE: { status: 503, title: 'Docker engine unavailable' },
  SLIPWAY_ERR_REPO_NOT_FOUND: { status: 404, title: 'Repository not found' },
  SLIPWAY_ERR_REF_NOT_FOUND: { status: 404, title: 'Git ref not found' },
  SLIPWAY_ERR_REPO_TOO_LARGE: { status: 413, title: 'Repository or build context too large' },
  SLIPWAY_ERR_GIT_REMOTE: { status: 502, title: 'Git remote error' },
  SLIPWAY_ERR_GIT_TIMEOUT: { status: 504, title: 'Git remote timed out' },
  /** The configured backend cannot do what was asked (Swarm tasks take no stdin, ...). */
  SLIPWAY_ERR_UNSUPPORTED: { status: 400, title: 'Not supported by this backend' },
  SLIPWAY_ERR_PULL_FAILED: { status: 502, title: 'Image pull failed' },
  /** The engine accepted a container but dropped limits it was asked for (rootless Podman on cgroup v1). */
  SLIPWAY_ERR_ENGINE_LIMITS: { status: 502, title: 'Engine did not apply the limits' },
  SLIPWAY_ERR_SANDBOX_NOT_FOUND: { status: 404, title: 'Sandbox not found' },
  SLIPWAY_ERR_FILE_NOT_FOUND: { status: 404, title: 'File not found' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** The input field at fault, as a path such as `files[1].path`. */
  readonly field?: string;
  /** For SLIPWAY_ERR_RATE_LIMITED: when trying again makes sense (the Retry-After header). */
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SlipwayError';
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].status;
    if (options.field !== undefined) this.field = options.field;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const invalidInput = (field: string, message: string): SlipwayError =>
  new SlipwayError('SLIPWAY_ERR_INVALID_INPUT', message, { field });

export const policyDenied = (field: string, message: string): SlipwayError =>
  new SlipwayError('SLIPWAY_ERR_POLICY_DENIED', message, { field });
