/**
 * Origin and Host allow-lists for /mcp (DNS rebinding protection, MCP transport spec).
 * A web page on evil.example whose name was rebound to 127.0.0.1 reaches the gateway
 * with `Host: evil.example` and `Origin: http://evil.example`; both are refused here,
 * before a session is looked up or a body is read.
 *
 * Entries without a port match any port (`localhost` accepts `localhost:8080`), since
 * the port a gateway listens on is often chosen at start-up; an entry with a port
 * matches that port only; `*` accepts anything (an operator behind a trusted proxy).
 */

interface HostPattern {
  any: boolean;
  scheme?: string;
  hostname: string;
  port?: string;
}

/** `hostname`/`port` as the URL parser normalises them (lower case, IPv6 in brackets). */
function parse(value: string, withScheme: boolean): HostPattern | undefined {
  try {
    const url = new URL(withScheme ? value : `http://${value}`);
    // A Host or Origin carries nothing but scheme, host and port: anything else is forged.
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    if (withScheme && value.replace(/\/$/, '') !== `${url.protocol}//${url.host}`) return undefined;
    const pattern: HostPattern = { any: false, hostname: url.hostname };
    if (withScheme) pattern.scheme = url.protocol;
    if (url.port !== '') pattern.port = url.port;
    return pattern;
  } catch {
    return undefined;
  }
}

/** The settings that fill the allow-lists: a refusal names the one that would admit the value. */
export const ORIGINS_SETTING = 'SLIPWAY_MCP_ALLOWED_ORIGINS';
export const HOSTS_SETTING = 'SLIPWAY_MCP_ALLOWED_HOSTS';

function compile(entries: string[], withScheme: boolean): HostPattern[] {
  return entries.map((entry) => {
    if (entry === '*') return { any: true, hostname: '' };
    const pattern = parse(entry.toLowerCase(), withScheme);
    if (!pattern) {
      const accepted = withScheme ? 'scheme://host or scheme://host:port, or *' : 'host or host:port, or *';
      throw new Error(`${withScheme ? ORIGINS_SETTING : HOSTS_SETTING} holds "${entry}", which is not ${accepted}`);
    }
    return pattern;
  });
}

function matches(patterns: HostPattern[], value: HostPattern): boolean {
  return patterns.some(
    (p) =>
      p.any ||
      (p.hostname === value.hostname &&
        (p.scheme === undefined || p.scheme === value.scheme) &&
        (p.port === undefined || p.port === (value.port ?? defaultPort(value.scheme)))),
  );
}

function defaultPort(scheme: string | undefined): string | undefined {
  return scheme === 'https:' ? '443' : scheme === 'http:' ? '80' : undefined;
}

export type GuardVerdict = { ok: true } | { ok: false; reason: string };

export class RequestGuard {
  private readonly origins: HostPattern[];
  private readonly hosts: HostPattern[];

  constructor(allowedOrigins: string[], allowedHosts: string[]) {
    this.origins = compile(allowedOrigins, true);
    this.hosts = compile(allowedHosts, false);
  }

  check(host: string | undefined, origin: string | undefined): GuardVerdict {
    const parsedHost = host === undefined ? undefined : parse(host.toLowerCase(), false);
    if (!parsedHost || !matches(this.hosts, parsedHost)) return { ok: false, reason: `Host ${JSON.stringify(host ?? null)} is not allowed; the server's ${HOSTS_SETTING} setting admits hosts` };
    // Browsers always send Origin on cross-origin requests; non-browser clients need not.
    if (origin === undefined) return { ok: true };
    const parsedOrigin = parse(origin.toLowerCase(), true);
    if (!parsedOrigin || !matches(this.origins, parsedOrigin)) return { ok: false, reason: `Origin ${JSON.stringify(origin)} is not allowed; the server's ${ORIGINS_SETTING} setting admits origins` };
    return { ok: true };
  }
}
