/**
 * The one way into an operation, for both doors: who is calling must be known (a
 * missing caller fails closed), the operation's scope is checked, and every call ends
 * in one audit line. The doors add only their own transport: validation by the same
 * Ajv, and turning the result or the error into a reply.
 */
import type { Caller } from '../lib/caller.js';
import { SlipwayError } from '../lib/errors.js';
import type { Scope } from '../server/tokens.js';
import type { Operation } from './operation.js';

/** The authenticated caller and the scopes its token grants. */
export interface Who {
  caller: Caller;
  scopes: ReadonlySet<Scope>;
}

export function hasScope(scopes: ReadonlySet<Scope>, scope: Scope): boolean {
  return scopes.has(scope) || scopes.has('admin');
}

/** Throws 401 when nobody is known to be calling, 403 naming the scope when the token lacks it. */
export function authorize(op: Pick<Operation, 'scope'>, who: Who | undefined | null): Who {
  if (!who?.caller || !who.scopes) throw new SlipwayError('SLIPWAY_ERR_UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
  if (!hasScope(who.scopes, op.scope)) {
    throw new SlipwayError('SLIPWAY_ERR_SCOPE_MISSING', `this token lacks the "${op.scope}" scope`, { field: 'scope' });
  }
  return who;
}
