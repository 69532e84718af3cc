/**
 * The HTTP client isomorphic-git talks through (its `http` plugin: one `request()`).
 * Ours rather than isomorphic-git/http/node because the policy must hold where the
 * connection is made, not only where the URL was checked:
 *
 * - every socket's DNS lookup goes through `addressRefusal`, so a name that resolved
 *   to a public address at check time cannot be re-pointed at 127.0.0.1 or
 *   169.254.169.254 for the connect (DNS rebinding); IP literals are checked up front
 *   since Node does not look them up;
 * - redirects are followed here, one hop at a time, each target checked by the same
 *   rules as the original URL, and Authorization is dropped when the origin changes;
 * - response bytes are counted for the whole clone and the transfer is cut past the
 *   limit; the AbortSignal (caller cancel or clone timeout) tears down the socket;
 * - the pack in an upload-pack answer goes through lib/git-pack-inspector.ts on its way
 *   to isomorphic-git, which cuts the transfer at the first object past a size bound.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { policyDenied, SlipwayError } from './errors.js';
import { PackInspector, PackRefusal, type PackBounds } from './git-pack-inspector.js';
import { SidebandPackReader } from './git-sideband.js';
import { addressRefusal, parseRepoUrl, REPO_URL_FIELD, type GitUrlPolicy, type RepoUrl } from './git-url-policy.js';

export interface GitHttpClientOptions {
  policy: GitUrlPolicy;
  /** Aborts every request under way (caller cancel or the clone's time limit). */
  signal: AbortSignal;
  /** Response bytes (after content decoding) allowed over the client's life. */
  maxBytes: number;
  /** What a fetched pack may inflate to; checked while it streams in. */
  pack: PackBounds;
  maxRedirects?: number;
}

const USER_AGENT = 'git/isomorphic-git slipway';
const DEFAULT_MAX_REDIRECTS = 5;

export class GitHttpClient implements HttpClient {
  /** Bytes received so far, for the size limit and for the log. */
  received = 0;
  /** Why the client cut a transfer; isomorphic-git may wrap or replace the error it saw. */
  failure: SlipwayError | undefined;
  private readonly moved = new Map<string, string>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(private readonly options: GitHttpClientOptions) {}

  /** Closes pooled sockets; call when the clone is done. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  readonly request = async (req: GitHttpRequest): Promise<GitHttpResponse> => {
    const body = req.body ? Buffer.concat(await collect(req.body)) : undefined;
    let method = (req.method ?? 'GET').toUpperCase();
    let headers: Record<string, string> = { 'user-agent': USER_AGENT, ...lowerKeys(req.headers ?? {}) };
    const asked = this.rebase(req.url);
    let target = this.check(asked, 'the repository URL');
    let payload = body;
    for (let hop = 0; ; hop++) {
      const res = await this.send(target, method, headers, payload);
      const location = res.headers.location;
      if (res.statusCode === undefined || res.statusCode < 300 || res.statusCode >= 400 || !location) {
        if (hop > 0) this.rememberRedirect(asked, target.url.href);
        return this.toResponse(target.url, method, res);
      }
      res.resume();
      if (hop >= (this.options.maxRedirects ?? DEFAULT_MAX_REDIRECTS)) {
        throw this.fail(new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', 'the git server redirected too many times', { field: REPO_URL_FIELD }));
      }
      const next = this.check(new URL(location, target.url).href, 'a redirect target');
      if (next.url.origin !== target.url.origin) delete headers.authorization;
      // As browsers and git do: 303, and 301/302 after a POST, continue as a GET without body.
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
        method = 'GET';
        payload = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-type' && k !== 'content-length'));
      }
      target = next;
    }
  };

  /**
   * As git does (http.followRedirects=initial): a redirect of the first `info/refs`
   * request moves the whole repository, so the POSTs that follow go to the new place
   * directly instead of being redirected (and turned into GETs) one by one.
   */
  private rememberRedirect(asked: string, landed: string): void {
    const base = (u: string) => (u.includes('/info/refs?') ? u.slice(0, u.indexOf('/info/refs?')) : undefined);
    const from = base(asked);
    const to = base(landed);
    if (from && to && from !== to) this.moved.set(from, to);
  }

  private rebase(url: string): string {
    for (const [from, to] of this.moved) if (url.startsWith(`${from}/`)) return to + url.slice(from.length);
    return url;
  }

  private check(raw: string, what: string): RepoUrl {
    try {
      return parseRepoUrl(raw, this.options.policy, what);
    } catch (err) {
      throw this.fail(err as SlipwayError);
    }
  }

  private send(target: RepoUrl, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<http.IncomingMessage> {
    const secure = target.url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(target.url, {
        method,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
        agent: secure ? this.agents.https : this.agents.http,
        signal: this.options.signal,
        ...(target.allowedByConfig ? {} : { lookup: this.guardedLookup(target.host) }),
      });
      request.once('response', resolve);
      request.once('error', (err) => reject(this.failure ?? err));
      request.end(body);
    });
  }

  /** dns.lookup, but every answer is checked and one refused address fails the connect. */
  private guardedLookup(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        for (const { address } of addresses) {
          const reason = addressRefusal(address);
          if (reason) {
            const denied = this.fail(policyDenied(REPO_URL_FIELD, `host ${host} resolved to ${address}, ${reason}, which the server does not allow`));
            return callback(denied as NodeJS.ErrnoException, '', 0);
          }
        }
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }), '', 0);
        return callback(null, first.address, first.family);
      });
    };
  }

  private toResponse(url: URL, method: string, res: http.IncomingMessage): GitHttpResponse {
    const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
    let stream: Readable = res;
    if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(createGunzip());
    else if (encoding === 'deflate') stream = res.pipe(createInflate());
    if (stream !== res) res.once('error', (err) => stream.destroy(err));
    let counted = stream.pipe(this.counter());
    stream.once('error', (err) => counted.destroy(this.failure ?? err));
    if (method === 'POST' && url.pathname.endsWith('/git-upload-pack')) {
      const source = counted;
      counted = source.pipe(this.packGuard());
      source.once('error', (err) => counted.destroy(this.failure ?? err));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return {
      url: url.href,
      method,
      statusCode: res.statusCode ?? 0,
      statusMessage: res.statusMessage ?? '',
      headers,
      body: counted[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
    };
  }

  private counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.received += chunk.length;
        if (this.received > this.options.maxBytes) {
          const mib = (this.options.maxBytes / 1024 / 1024).toFixed(1);
          return done(this.fail(new SlipwayError('SLIPWAY_ERR_REPO_TOO_LARGE', `the repository transfer passed the server's limit of ${mib} MiB`, { field: REPO_URL_FIELD })));
        }
        done(null, chunk);
      },
    });
  }

  /** Passes the answer through once the pack bytes it carries are inspected. */
  private packGuard(): Transform {
    const reader = new SidebandPackReader();
    const inspector = new PackInspector(this.options.pack);
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        const inspect = async () => {
          for (const bytes of reader.push(chunk)) await inspector.write(bytes);
        };
        inspect().then(
          () => done(null, chunk),
          (err: unknown) => done(this.fail(packError(err))),
        );
      },
    });
  }

  private fail(err: SlipwayError): SlipwayError {
    this.failure ??= err;
    return err;
  }
}

function packError(err: unknown): SlipwayError {
  if (err instanceof PackRefusal && err.kind === 'too-large') {
    return new SlipwayError('SLIPWAY_ERR_REPO_TOO_LARGE', `repository too large: ${err.message}`, { field: REPO_URL_FIELD });
  }
  return new SlipwayError('SLIPWAY_ERR_GIT_REMOTE', `the git server sent a broken pack: ${(err as Error).message}`, { field: REPO_URL_FIELD });
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return chunks;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
