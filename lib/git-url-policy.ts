/**
 * Which git URLs Slipway may fetch from. A caller names the repository, so the URL is
 * a way to make the gateway open connections: by default only `https` to public
 * addresses. `SLIPWAY_GIT_ALLOWED_HOSTS` (`host` or `host:port`) lets the operator
 * open named hosts, over plain `http` too, whatever they resolve to.
 *
 * Status codes follow lib/policy.ts: 400 when no server setting could make the URL
 * acceptable (not a URL, a scheme other than http/https, credentials in it), 403
 * (SLIPWAY_ERR_POLICY_DENIED) when the URL is well formed but this server's policy
 * refuses it (plain http, a non-public address). Both name `repo_url`.
 *
 * Checking a name before connecting is not enough (DNS rebinding: the answer may
 * change between the check and the connect), so lib/git-http-client.ts also applies
 * `addressRefusal` inside the socket's own lookup, to the address it connects to.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalidInput, policyDenied, SlipwayError } from './errors.js';

export interface GitUrlPolicy {
  /** `host` (any port) or `host:port` (that port only); IPv6 as `[::1]:8080`. */
  allowedHosts: readonly string[];
}

export interface RepoUrl {
  url: URL;
  /** Lower-case host name, without IPv6 brackets. */
  host: string;
  port: number;
  /** Named by SLIPWAY_GIT_ALLOWED_HOSTS: no address checks, plain http allowed. */
  allowedByConfig: boolean;
}

export const REPO_URL_FIELD = 'repo_url';
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Grammar and scheme checks that need no DNS. `what` names the URL in messages
 * ("repo_url", "redirect target").
 */
export function parseRepoUrl(raw: string, policy: GitUrlPolicy, what = REPO_URL_FIELD): RepoUrl {
  // Whitespace, control characters and backslashes have no place in a clone URL;
  // URL parsing would quietly percent-encode or reinterpret them.
  if (/[\s\\\u0000-\u001f\u007f]/.test(raw)) throw invalidInput(REPO_URL_FIELD, `${what} contains whitespace, control characters or backslashes`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidInput(REPO_URL_FIELD, `${what} must be an https URL such as https://github.com/owner/repo.git (scp-style and local paths are not accepted)`);
  }
  const port = DEFAULT_PORTS[url.protocol];
  if (port === undefined) {
    throw invalidInput(REPO_URL_FIELD, `${what} scheme ${url.protocol.replace(/:$/, '')} is not accepted; only https (and http to hosts the server allows)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidInput(REPO_URL_FIELD, `${what} must not carry credentials; the server supplies them for the hosts it knows`);
  }
  if (url.hostname === '') throw invalidInput(REPO_URL_FIELD, `${what} has no host`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const parsed: RepoUrl = { url, host, port: url.port === '' ? port : Number(url.port), allowedByConfig: false };
  parsed.allowedByConfig = hostAllowed(parsed, policy.allowedHosts);
  if (url.protocol === 'http:' && !parsed.allowedByConfig) {
    throw policyDenied(REPO_URL_FIELD, `${what} uses plain http to ${url.host}, which the server does not allow; use https`);
  }
  if (!parsed.allowedByConfig) {
    const named = namedRefusal(host);
    if (named) throw policyDenied(REPO_URL_FIELD, `${what} host ${url.host} is ${named}, which the server does not allow`);
  }
  return parsed;
}

/** True when an allow-list entry names the URL's host (and its port, when the entry has one). */
export function hostAllowed(target: Pick<RepoUrl, 'host' | 'port'>, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((entry) => {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry.trim()) ?? /^([^:]+)(?::(\d+))?$/.exec(entry.trim());
    if (!m) return false;
    return m[1]!.toLowerCase() === target.host && (m[2] === undefined || Number(m[2]) === target.port);
  });
}

/**
 * Why an address must not be connected to, or null when it is a public unicast
 * address. Covers IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of IPv4.
 */
export function addressRefusal(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return ipv4Refusal(address.split('.').map(Number));
  if (family !== 6) return 'not an IP address';
  const b = ipv6Bytes(address);
  if (!b) return 'not an IP address';
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 16)) return 'an unspecified address';
  if (zeros(0, 15) && b[15] === 1) return 'a loopback address';
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64): judge the IPv4 inside.
  if (zeros(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0))) return ipv4Refusal([...b.slice(12, 16)]);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return ipv4Refusal([...b.slice(12, 16)]);
  if (b[0] === 0x20 && b[1] === 0x02) return ipv4Refusal([...b.slice(2, 6)]); // 6to4
  if (b[0] === 0xfd && b[1] === 0x00 && b[2] === 0x0e && b[3] === 0xc2 && zeros(4, 14) && b[14] === 0x02 && b[15] === 0x54) return 'a cloud metadata address';
  if ((b[0]! & 0xfe) === 0xfc) return 'a private (unique local) address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'a site-local address';
  if (b[0] === 0xff) return 'a multicast address';
  return null;
}

function ipv4Refusal([a = 0, b = 0, c = 0, d = 0]: number[]): string | null {
  if ((a === 169 && b === 254 && c === 169 && d === 254) || (a === 100 && b === 100 && c === 100 && d === 200)) return 'a cloud metadata address';
  if (a === 0) return 'an unspecified address';
  if (a === 127) return 'a loopback address';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 169 && b === 254) return 'a link-local address';
  if (a === 100 && b >= 64 && b <= 127) return 'a shared (CGNAT) address';
  if (a === 192 && b === 0 && c === 0) return 'a reserved address';
  if (a === 198 && (b === 18 || b === 19)) return 'a reserved address';
  if (a >= 224) return a < 240 ? 'a multicast address' : 'a reserved address';
  return null;
}

/** The 16 bytes of an IPv6 address (`::` compression, a dotted IPv4 tail, a zone id), or null. */
export function ipv6Bytes(address: string): number[] | null {
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const q = v4[1]!.split('.').map(Number);
    if (isIP(v4[1]!) !== 4) return null;
    text = `${text.slice(0, -v4[1]!.length)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** Refusals decided by the name alone: IP literals, and `localhost` names (RFC 6761). */
export function namedRefusal(host: string): string | null {
  if (isIP(host)) return addressRefusal(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback name';
  return null;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;
export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * The full check before a clone: grammar, scheme, the allow-list, and every address
 * the host resolves to (one refused address refuses the host). The connection itself
 * is checked again by the git HTTP client.
 */
export async function checkRepoUrl(raw: string, policy: GitUrlPolicy, resolve: Resolver = systemResolver, what = REPO_URL_FIELD): Promise<RepoUrl> {
  const parsed = parseRepoUrl(raw, policy, what);
  if (parsed.allowedByConfig || isIP(parsed.host)) return parsed;
  let addresses: { address: string }[];
  try {
    addresses = await resolve(parsed.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      throw new SlipwayError('SLIPWAY_ERR_REPO_NOT_FOUND', `${what} host ${parsed.host} does not resolve`, { field: REPO_URL_FIELD, cause: err });
    }
    throw new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `${what} host ${parsed.host} could not be resolved (${code ?? String(err)})`, { field: REPO_URL_FIELD, cause: err });
  }
  for (const { address } of addresses) {
    const reason = addressRefusal(address);
    if (reason) throw policyDenied(REPO_URL_FIELD, `${what} host ${parsed.host} resolves to ${address}, ${reason}, which the server does not allow`);
  }
  return parsed;
}
