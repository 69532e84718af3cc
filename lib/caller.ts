/**
 * Who is asking, as the library sees it: whose runs and containers are theirs, and
 * the policy their requests are held to. The doors build a Caller from the bearer
 * token (server/plugins/auth.ts); on an open server every request is the one open caller.
 */
import { policyDenied } from './errors.js';
import { withExplicitTag } from './image-ref.js';
import type { RunPolicy } from './policy.js';

export interface CallerPolicy extends RunPolicy {
  /** Image patterns such as `python:*` or `registry.example.com/team/*`; empty allows any. */
  imageAllow: string[];
  manageAllContainers: boolean;
  allowBuilds: boolean;
  buildNetwork: boolean;
  runtime?: string | undefined;
  /**
   * Placement constraints every run of this caller gets (`node.labels.pool==batch`), on a
   * backend that places runs (Swarm); a backend that cannot refuses a non-empty list.
   */
  placement?: string[] | undefined;
  /** Runs this caller may have queued or executing at once; unset means the server's bound only. */
  maxConcurrentRuns?: number | undefined;
}

export interface Caller {
  /** The token's name, recorded as the owner of what the caller starts; null on an open server. */
  name: string | null;
  /** Sees, follows and cancels every run of this instance (the admin scope, or an open server). */
  seesAll: boolean;
  policy: CallerPolicy;
}

/** The owner filter for look-ups: undefined means "everyone's". */
export function ownerFilter(caller: Caller): string | undefined {
  return caller.seesAll ? undefined : (caller.name ?? undefined);
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Refuses (403 naming `field`) an image outside the caller's allow-list. */
export function assertImageAllowed(image: string, policy: Pick<CallerPolicy, 'imageAllow'>, field = 'image'): void {
  if (policy.imageAllow.length === 0) return;
  const candidates = [image, withExplicitTag(image)];
  const allowed = policy.imageAllow.some((pattern) => {
    const re = patternToRegExp(pattern);
    return candidates.some((c) => re.test(c));
  });
  if (!allowed) throw policyDenied(field, `image ${image} is not allowed by the server's image allow-list (${policy.imageAllow.join(', ')})`);
}
