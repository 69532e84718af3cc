/**
 * One image build through the Engine API (`POST /build`, the classic builder that
 * honours every limit below), streamed line by line as it happens.
 *
 * - Limits are always set: `memory` = `memswap` (no swap), `cpuquota`/`cpuperiod`,
 *   `networkmode: none` unless the server allows network during builds.
 * - `forcerm`: intermediate containers go even when a step fails.
 * - The time limit (and a caller's cancel) aborts the request; the daemon sees the
 *   connection close, kills the step's container and, with forcerm, removes it.
 * - A failing step is an outcome, not an exception: `failed` with that step's output.
 *   Engine trouble (unreachable, a 5xx with no build behind it) is thrown as usual.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { DockerClient } from './docker-client.js';
import { toSlipwayError } from './docker-client.js';

export interface BuildLimits {
  memoryBytes: number;
  cpus: number;
  timeoutSeconds: number;
  /** SLIPWAY_BUILD_NETWORK: RUN steps get the default bridge instead of no network. */
  network: boolean;
}

export interface ImageBuildRequest {
  context: Readable;
  /** Path of the Dockerfile inside the context tar. */
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  target?: string | undefined;
}

export type ImageBuildOutcome =
  | { ok: true; imageId: string; log: string }
  | { ok: false; reason: 'failed' | 'timed_out'; message: string; stepLog: string; log: string };

export interface ImageBuildOptions {
  signal?: AbortSignal | undefined;
  onLine?: ((line: string) => void) | undefined;
  log: Logger;
  /** Kept of the whole build's output, and of the failing step's. */
  logMaxBytes?: number;
}

interface BuildMessage {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

const CPU_PERIOD_US = 100_000;
const STEP_LINE = /^Step \d+\/\d+ : /;
// eslint-disable-next-line no-control-regex
const ANSI_SGR = /\u001b\[[0-9;]*m/g;
const DEFAULT_LOG_MAX_BYTES = 64 * 1024;

/** The `/build` query for these inputs and limits (exported for the tests). */
export function buildQuery(req: Omit<ImageBuildRequest, 'context'>, limits: BuildLimits): Record<string, unknown> {
  return {
    t: req.tag,
    dockerfile: req.dockerfile,
    buildargs: req.buildArgs,
    labels: req.labels,
    ...(req.target ? { target: req.target } : {}),
    networkmode: limits.network ? 'bridge' : 'none',
    memory: limits.memoryBytes,
    memswap: limits.memoryBytes,
    cpuperiod: CPU_PERIOD_US,
    cpuquota: Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US)),
    rm: true,
    forcerm: true,
    pull: false,
  };
}

export async function buildImage(docker: DockerClient, req: ImageBuildRequest, limits: BuildLimits, options: ImageBuildOptions): Promise<ImageBuildOutcome> {
  const maxBytes = options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const all = new BoundedLines(maxBytes);
  let step = new BoundedLines(maxBytes);
  let partial = '';
  let imageId: string | undefined;
  let error: string | undefined;
  // Images committed by steps that ran here (not taken from the builder's cache): on
  // failure nothing tags them, so they would stay on the engine unlabelled.
  const committed: string[] = [];
  let ranContainer = false;
  const line = (raw: string) => {
    const text = raw.replace(ANSI_SGR, ''); // the builder colours a step's stderr
    if (STEP_LINE.test(text)) {
      step = new BoundedLines(maxBytes);
      ranContainer = false;
    } else if (text.startsWith(' ---> Running in ')) ranContainer = true;
    else if (ranContainer && /^ ---> [0-9a-f]{12,64}$/.test(text)) committed.push(text.slice(6));
    all.push(text);
    step.push(text);
    options.onLine?.(text);
  };
  const onMessage = (m: BuildMessage) => {
    if (m.stream !== undefined) {
      const parts = (partial + m.stream).split('\n');
      partial = parts.pop()!;
      parts.forEach(line);
    } else if (m.error !== undefined || m.errorDetail !== undefined) {
      error = m.errorDetail?.message ?? m.error ?? 'build failed';
    } else if (m.aux?.ID) {
      imageId = m.aux.ID;
    } else if (m.status && m.progressDetail?.current === undefined) {
      line(m.id ? `${m.status} ${m.id}` : m.status); // pulls of a base image; progress bars dropped
    }
  };

  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error('build time limit'));
  }, limits.timeoutSeconds * 1000);
  const onCallerAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) onCallerAbort();
  const started = performance.now();
  let succeeded = false;
  const context = { tag: req.tag, dockerfile: req.dockerfile };
  options.log.debug(context, 'engine build');
  try {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.engine.buildImage(req.context, { ...buildQuery(req, limits), abortSignal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) throw err;
      const status = (err as { statusCode?: number }).statusCode;
      // The engine refuses some builds before streaming (a Dockerfile it cannot parse): the build's fault.
      if (status === 400 || status === 500) return failure('failed', toSlipwayError(err).message.replace(/^engine error: /, ''));
      throw toSlipwayError(err);
    }
    await readMessages(stream, onMessage, abort.signal);
    if (partial) line(partial);
    options.log.debug({ ...context, seconds: (performance.now() - started) / 1000, error }, 'engine build done');
    if (error !== undefined) return failure('failed', error);
    const info = await docker.inspectImage(req.tag);
    if (!info) return failure('failed', 'the build finished without producing the image');
    succeeded = true;
    return { ok: true, imageId: imageId ?? info.Id, log: all.text() };
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timedOut) return failure('timed_out', `the build exceeded its time limit of ${limits.timeoutSeconds} seconds and was stopped`);
    throw toSlipwayError(err);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    req.context.destroy();
    if (!succeeded) await removeCommitted(docker, committed, options.log);
  }

  function failure(reason: 'failed' | 'timed_out', message: string): ImageBuildOutcome {
    if (partial) line(partial);
    partial = '';
    line(`ERROR: ${message}`);
    return { ok: false, reason, message, stepLog: step.text(), log: all.text() };
  }
}

/**
 * Child first, and only those ids (noprune): a parent may be another build's cache.
 * Best effort: an image something else now uses (409) stays.
 */
async function removeCommitted(docker: DockerClient, ids: string[], log: Logger): Promise<void> {
  for (const id of [...ids].reverse()) {
    await docker.engine
      .getImage(id)
      .remove({ noprune: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) log.debug({ image: id, err: String(err) }, 'intermediate image kept');
      });
  }
}

/** Newline-delimited JSON from the engine, one message at a time; ends with the stream. */
async function readMessages(stream: NodeJS.ReadableStream, onMessage: (m: BuildMessage) => void, signal: AbortSignal): Promise<void> {
  let buffered = '';
  const onAbort = () => (stream as Readable).destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (text) onMessage(parseMessage(text));
      }
    }
    if (buffered.trim()) onMessage(parseMessage(buffered.trim()));
    signal.throwIfAborted();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function parseMessage(text: string): BuildMessage {
  try {
    return JSON.parse(text) as BuildMessage;
  } catch {
    return { stream: `${text}\n` }; // not JSON: keep it as output rather than lose it
  }
}

/** The last lines that fit in `maxBytes`; what fell off the front is counted and said. */
export class BoundedLines {
  private readonly lines: string[] = [];
  private bytes = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  push(line: string): void {
    const size = Buffer.byteLength(line) + 1;
    // A single line longer than the whole budget keeps its end.
    const kept = size > this.maxBytes ? line.slice(-Math.floor(this.maxBytes / 4)) : line;
    this.lines.push(kept);
    this.bytes += Buffer.byteLength(kept) + 1;
    this.dropped += size - (Buffer.byteLength(kept) + 1);
    while (this.bytes > this.maxBytes && this.lines.length > 1) {
      const first = this.lines.shift()!;
      this.bytes -= Buffer.byteLength(first) + 1;
      this.dropped += Buffer.byteLength(first) + 1;
    }
  }

  text(): string {
    const body = this.lines.join('\n');
    return this.dropped > 0 ? `[${this.dropped} bytes of earlier output omitted]\n${body}` : body;
  }
}
