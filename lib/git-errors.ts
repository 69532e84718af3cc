/**
 * isomorphic-git failures in the catalogue's terms. Order matters: a caller's cancel
 * wins over everything (it is not an error of the repository), then whatever our
 * HTTP client decided (policy, size: isomorphic-git may have wrapped it), then the
 * clone's time limit, then what the server or the protocol said.
 */
import { SlipwayError } from './errors.js';
import type { GitHttpClient } from './git-http-client.js';
import { REPO_URL_FIELD } from './git-url-policy.js';

export interface GitErrorContext {
  /** The input the failure is about: `repo_url` for the remote, `ref` for what was fetched. */
  field: string;
  ref?: string | undefined;
  client: GitHttpClient;
  timeout: AbortSignal;
  caller?: AbortSignal | undefined;
  timeoutSeconds: number;
}

interface IsoGitError {
  code?: string;
  message?: string;
  data?: { statusCode?: number; statusMessage?: string; response?: string };
}

/** System errors that mean the remote could not be reached or spoke TLS wrongly. */
const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|CERT_|ERR_TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/;

export function mapGitError(err: unknown, ctx: GitErrorContext): unknown {
  if (ctx.caller?.aborted) return ctx.caller.reason;
  if (ctx.client.failure) return ctx.client.failure;
  if (ctx.timeout.aborted) {
    return new SlipwayError('SLIPWAY_ERR_GIT_TIMEOUT', `the clone did not finish within ${ctx.timeoutSeconds} seconds`, { field: REPO_URL_FIELD, cause: err });
  }
  if (err instanceof SlipwayError) return err;
  const e = err as IsoGitError;
  const detail = (e.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  switch (e.code) {
    case 'HttpError': {
      const status = e.data?.statusCode ?? 0;
      // 401 and 403 too: hosts answer so for private repositories, and Slipway says no more than they do.
      if (status === 404 || status === 401 || status === 403 || status === 410) {
        return new SlipwayError('SLIPWAY_ERR_REPO_NOT_FOUND', `repository not found or not accessible (HTTP ${status})`, { field: REPO_URL_FIELD, cause: err });
      }
      return new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `the git server answered HTTP ${status} ${e.data?.statusMessage ?? ''}`.trim(), { field: REPO_URL_FIELD, cause: err });
    }
    case 'UserCanceledError':
      return new SlipwayError('SLIPWAY_ERR_REPO_NOT_FOUND', 'repository not found or not accessible (authentication required)', { field: REPO_URL_FIELD, cause: err });
    case 'SmartHttpError':
      return new SlipwayError('SLIPWAY_ERR_REPO_NOT_FOUND', 'the URL does not serve a git repository over smart HTTP', { field: REPO_URL_FIELD, cause: err });
    case 'NotFoundError':
      return new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', `${ctx.ref ?? 'the ref'} was not found: ${detail}`, { field: ctx.field === REPO_URL_FIELD ? REPO_URL_FIELD : 'ref', cause: err });
    case 'RemoteCapabilityError':
      return new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `the git server lacks a needed capability: ${detail}`, { field: REPO_URL_FIELD, cause: err });
  }
  const sys = (err as NodeJS.ErrnoException).code ?? '';
  if (NETWORK_CODES.test(sys)) {
    return new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `could not reach the git server (${sys})`, { field: REPO_URL_FIELD, cause: err });
  }
  // "not our ref" and other upload-pack refusals arrive as protocol errors with the server's text.
  return new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `git failed: ${detail}`, { field: ctx.field, cause: err });
}
