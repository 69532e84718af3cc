/**
 * Which registries the engine may be sent to. An image reference names its registry
 * host and port, so a pull is a way to make the Docker daemon open a connection: to a
 * loopback service, a private network, a cloud metadata address. By default a registry
 * whose host is such an address, written in any form or reached through a name that
 * resolves to one, is refused (403 naming `image`); SLIPWAY_REGISTRY_ALLOWED_HOSTS
 * (`host` or `host:port`) lets the operator open named ones. The address classification
 * is the git URLs' (lib/git-url-policy.ts).
 *
 * The daemon resolves the name again itself, so a name whose answer changes between the
 * two look-ups (DNS rebinding) is not caught here; a name that does not resolve here is
 * left for the pull to fail.
 */
import { hostAllowed, addressRefusal, namedRefusal, systemResolver, type Resolver } from './git-url-policy.js';
import { policyDenied } from './errors.js';
import { registryOf } from './image-ref.js';

export const REGISTRY_SETTING = 'SLIPWAY_REGISTRY_ALLOWED_HOSTS';

/** `host[:port]` of a registry, as the engine reads it (no port: https, 443). */
function parseRegistry(registry: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(registry) ?? /^([^:]+)(?::(\d+))?$/.exec(registry);
  return { host: (m?.[1] ?? registry).toLowerCase(), port: m?.[2] === undefined ? 443 : Number(m[2]) };
}

/** Refuses (403 naming `field`) a pull whose registry is an internal address, unless the server allows that host. */
export async function assertRegistryAllowed(image: string, allowedHosts: readonly string[], resolve: Resolver = systemResolver, field = 'image'): Promise<void> {
  const registry = registryOf(image);
  const target = parseRegistry(registry);
  if (hostAllowed(target, allowedHosts)) return;
  const refuse = (why: string) =>
    policyDenied(field, `${field} names registry ${registry}, ${why}, which the server does not allow (${REGISTRY_SETTING} can allow a registry host)`);
  const named = namedRefusal(target.host);
  if (named) throw refuse(`which is ${named}`);
  let addresses: { address: string }[];
  try {
    addresses = await resolve(target.host);
  } catch {
    return;
  }
  for (const { address } of addresses) {
    const reason = addressRefusal(address);
    if (reason) throw refuse(`which resolves to ${address}, ${reason}`);
  }
}
