/**
 * The seam between Slipway and the Docker Engine API. Every engine call goes through
 * here: it is logged with the object it touches, and engine failures come out as
 * catalogue errors (503 when the engine is unreachable, 404/409 as the engine says,
 * 502 otherwise), so nothing above this file handles raw dockerode errors.
 */
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { SlipwayError, type ErrorCode } from '../errors.js';
import { NO_METRICS, secondsSince, type Metrics } from '../metrics.js';
import type { ImageInfo, RuntimeVersion } from '../runtime/container-runtime.js';

export type EngineContainer = Docker.Container;

interface EngineErrorShape {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * The engine's own words. On streamed calls (pull) dockerode leaves `json` empty and
 * puts the engine's text in its message after `(HTTP code 500) server error - `; its
 * `reason` is only the status text.
 */
export function engineMessage(err: unknown): string {
  const e = err as EngineErrorShape;
  const fromMessage = e.message?.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return (e.json?.message ?? (fromMessage || e.reason) ?? String(err)).trim();
}

/** What the registry answers when a repository or tag does not exist (or is not visible to us). */
const NOT_FOUND_REASON = /manifest unknown|not found|does not exist|pull access denied|repository name not known/i;

/**
 * A failed pull in the caller's terms: a missing image is a 404 naming it, anything
 * else (a registry that does not resolve or answer, a refused login, a broken layer)
 * is `cannot pull <image>: <the engine's reason>`, so the caller sees why without the
 * server log. An unreachable engine stays a 503.
 */
export function pullError(ref: string, err: unknown): SlipwayError {
  const mapped = toSlipwayError(err);
  if (mapped.code === 'SLIPWAY_ERR_ENGINE_UNAVAILABLE' || (err instanceof SlipwayError && err.code !== 'SLIPWAY_ERR_ENGINE')) return mapped;
  const reason = err instanceof SlipwayError ? err.message.replace(/^engine error: /, '') : engineMessage(err);
  if ((err as EngineErrorShape).statusCode === 404 || NOT_FOUND_REASON.test(reason)) {
    return new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${ref} was not found: ${reason}`, { field: 'image', cause: err });
  }
  return new SlipwayError('SLIPWAY_ERR_PULL_FAILED', `cannot pull ${ref}: ${reason}`, { field: 'image', cause: err });
}

/** Maps an engine failure into the catalogue; `notFound` says what a 404 means here. */
export function toSlipwayError(err: unknown, notFound: ErrorCode = 'SLIPWAY_ERR_ENGINE'): SlipwayError {
  if (err instanceof SlipwayError) return err;
  const e = err as EngineErrorShape;
  if (e.code && UNREACHABLE.has(e.code)) {
    return new SlipwayError('SLIPWAY_ERR_ENGINE_UNAVAILABLE', 'the Docker engine is not reachable', { cause: err });
  }
  const message = engineMessage(err);
  if (e.statusCode === 404) return new SlipwayError(notFound, message, { cause: err });
  if (e.statusCode === 409) return new SlipwayError('SLIPWAY_ERR_CONFLICT', message, { cause: err });
  return new SlipwayError('SLIPWAY_ERR_ENGINE', `engine error: ${message}`, { cause: err });
}

interface Modem {
  dial(options: Record<string, unknown>, callback: (err: unknown, stream: unknown) => void): void;
}

/**
 * Attach with stdin, as a hijacked connection. dockerode's own `attach` also sends its
 * options as a JSON request body: Docker ignores it, but Podman hands it to the process
 * as the first bytes of its stdin. An empty body (Content-Length 0) is sent instead; the
 * options go in the query string only.
 */
function hijackedAttach(container: EngineContainer): Promise<NodeJS.ReadWriteStream> {
  const modem = (container as unknown as { modem: Modem }).modem;
  return new Promise((resolve, reject) =>
    modem.dial(
      {
        path: `/containers/${container.id}/attach?`,
        method: 'POST',
        isStream: true,
        hijack: true,
        openStdin: true,
        file: Buffer.alloc(0),
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        options: { stream: true, stdout: true, stderr: true, stdin: true, hijack: true },
      },
      (err, stream) => (err ? reject(err) : resolve(stream as NodeJS.ReadWriteStream)),
    ),
  );
}

export class DockerClient {
  constructor(
    /** Protected: nothing past the backends' folders reaches dockerode (the builder gets a narrow view, ./docker-builder.ts; lib/swarm/ extends this class). */
    protected readonly engine: Docker,
    protected readonly log: Logger,
    /** Each call's latency and failure, by operation (`what`). */
    protected readonly metrics: Metrics = NO_METRICS,
  ) {}

  protected async call<T>(what: string, context: Record<string, unknown>, fn: () => Promise<T>, notFound?: ErrorCode): Promise<T> {
    this.log.debug(context, `engine ${what}`);
    const start = performance.now();
    try {
      const result = await fn();
      this.metrics.engineCall(what, secondsSince(start), false);
      this.log.debug(context, `engine ${what} done`);
      return result;
    } catch (err) {
      this.metrics.engineCall(what, secondsSince(start), true);
      const mapped = toSlipwayError(err, notFound);
      this.log.debug({ ...context, err: engineMessage(err), code: mapped.code }, `engine ${what} failed`);
      throw mapped;
    }
  }

  ping(): Promise<unknown> {
    return this.call('ping', {}, () => this.engine.ping());
  }

  version(): Promise<Docker.DockerVersion> {
    return this.call('version', {}, () => this.engine.version());
  }

  /** The cgroup driver and version from the engine's `GET /info`. */
  cgroupInfo(): Promise<{ CgroupDriver?: string; CgroupVersion?: string }> {
    return this.call('info', {}, () => this.engine.info() as Promise<{ CgroupDriver?: string; CgroupVersion?: string }>);
  }

  /** The engine's version in the seam's terms, for a backend named `backend` (Docker and Swarm share it). */
  async runtimeVersion(backend: string): Promise<RuntimeVersion> {
    const v = await this.version();
    return { backend, version: v.Version, apiVersion: v.ApiVersion };
  }

  /** The image in the seam's terms (id, digest, labels), or null when the engine does not have it. */
  async imageInfo(ref: string): Promise<ImageInfo | null> {
    const info = await this.inspectImage(ref);
    if (!info) return null;
    return { id: info.Id, digest: info.RepoDigests?.[0]?.split('@')[1] ?? null, labels: info.Config?.Labels ?? {}, entrypoint: toArgvOrEmpty(info.Config?.Entrypoint) };
  }

  /** Image inspect, or null when the engine does not have it. */
  async inspectImage(ref: string): Promise<Docker.ImageInspectInfo | null> {
    try {
      return await this.call('image inspect', { image: ref }, () => this.engine.getImage(ref).inspect(), 'SLIPWAY_ERR_IMAGE_NOT_FOUND');
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_IMAGE_NOT_FOUND') return null;
      throw err;
    }
  }

  /**
   * Pulls to the end of the progress stream; an error event in the stream fails the
   * pull. Aborting stops the waiting at once (Docker 20.10 itself finishes the pull in
   * the background, which costs disk but creates nothing of the run's).
   */
  async pull(ref: string, authconfig: Docker.AuthConfig | undefined, onProgress: (event: Record<string, unknown>) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    let abort: (() => void) | undefined;
    this.log.debug({ image: ref }, 'engine pull');
    const start = performance.now();
    try {
      // The engine answers only once the registry does: the request itself must be abortable.
      const stream = await this.engine.pull(ref, { ...(authconfig ? { authconfig } : {}), ...(signal ? { abortSignal: signal } : {}) });
      await new Promise<void>((resolve, reject) => {
        abort = () => {
          (stream as unknown as { destroy(): void }).destroy();
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', abort, { once: true });
        // followProgress ends without an error when the engine reports one in the stream
        // (`{"errorDetail": {"message": ...}, "error": ...}`): that event fails the pull.
        let streamError: Error | undefined;
        this.engine.modem.followProgress(
          stream,
          (err: Error | null) => ((err ?? streamError) ? reject(err ?? streamError) : resolve()),
          (event: Record<string, unknown>) => {
            const detail = (event.errorDetail as { message?: string } | undefined)?.message ?? event.error;
            if (detail !== undefined) streamError ??= new Error(String(detail));
            else onProgress(event);
          },
        );
      });
      this.metrics.engineCall('pull', secondsSince(start), false);
      this.log.debug({ image: ref }, 'engine pull done');
    } catch (err) {
      this.metrics.engineCall('pull', secondsSince(start), true);
      // A cancelled pull fails with the caller's reason, not as an engine error.
      if (signal?.aborted) throw signal.reason;
      const mapped = pullError(ref, err);
      this.log.debug({ image: ref, err: engineMessage(err), code: mapped.code }, 'engine pull failed');
      throw mapped;
    } finally {
      if (abort) signal?.removeEventListener('abort', abort);
    }
  }

  createVolume(name: string, labels: Record<string, string>): Promise<unknown> {
    return this.call('volume create', { volume: name }, () => this.engine.createVolume({ Name: name, Labels: labels }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.call('volume remove', { volume: name }, () => this.engine.getVolume(name).remove());
  }

  createContainer(spec: Docker.ContainerCreateOptions): Promise<EngineContainer> {
    return this.call('container create', { image: spec.Image }, () => this.engine.createContainer(spec), 'SLIPWAY_ERR_IMAGE_NOT_FOUND');
  }

  /** The multiplexed output stream; with `stdin` a hijacked duplex the caller writes to. */
  async attach(container: EngineContainer, stdin: boolean): Promise<NodeJS.ReadWriteStream> {
    return this.call('container attach', { container: container.id }, async () => {
      if (!stdin) return (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadWriteStream;
      return hijackedAttach(container);
    });
  }

  /**
   * The multiplexed log the engine kept (bounded: it may have lost its start); with
   * `follow`, live until it exits; with `timestamps`, each frame starts with the
   * engine's RFC 3339 time and a space.
   */
  async logs(container: EngineContainer, options: { follow: boolean; timestamps?: boolean }): Promise<NodeJS.ReadableStream> {
    return this.call('container logs', { container: container.id }, async () => {
      const stream = await container.logs({ follow: options.follow as true, stdout: true, stderr: true, timestamps: options.timestamps ?? false });
      return stream as unknown as NodeJS.ReadableStream;
    });
  }

  /** The engine's resource samples of a running container (newline-delimited JSON, about one a second) until it stops. */
  async stats(container: EngineContainer): Promise<NodeJS.ReadableStream> {
    return this.call('container stats', { container: container.id }, async () => {
      const stream = await container.stats({ stream: true });
      return stream as unknown as NodeJS.ReadableStream;
    });
  }

  /**
   * One stats sample of a running container (`one-shot`: no second sample for CPU
   * percentages). The engine answers at its collector's next round, within about a second.
   */
  async statsOnce(container: EngineContainer): Promise<Docker.ContainerStats> {
    return this.call('container stats', { container: container.id, oneShot: true }, () =>
      container.stats({ stream: false, 'one-shot': true }),
    );
  }

  async putArchive(container: EngineContainer, tar: Buffer | NodeJS.ReadableStream, path: string): Promise<void> {
    await this.call('container put-archive', { container: container.id, path }, () => container.putArchive(tar, { path }));
  }

  /** A tar of `path` inside the container (a created one is enough), as a stream. */
  async getArchive(container: EngineContainer, path: string): Promise<NodeJS.ReadableStream> {
    return this.call('container get-archive', { container: container.id, path }, () => container.getArchive({ path }), 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
  }

  async start(container: EngineContainer): Promise<void> {
    await this.call('container start', { container: container.id }, () => container.start());
  }

  async wait(container: EngineContainer): Promise<{ StatusCode: number }> {
    return this.call('container wait', { container: container.id }, () => container.wait());
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`; an already stopped container is not an error. */
  async stop(container: EngineContainer, graceSeconds: number): Promise<boolean> {
    try {
      await this.call('container stop', { container: container.id, graceSeconds }, () => container.stop({ t: graceSeconds }));
      return true;
    } catch (err) {
      const cause = (err as SlipwayError).cause as EngineErrorShape | undefined;
      if (cause?.statusCode === 304) return false;
      throw err;
    }
  }

  async remove(container: EngineContainer): Promise<void> {
    await this.call('container remove', { container: container.id }, () => container.remove({ force: true, v: true }));
  }

  inspect(idOrName: string): Promise<Docker.ContainerInspectInfo> {
    return this.call('container inspect', { container: idOrName }, () => this.engine.getContainer(idOrName).inspect(), 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
  }

  /** Whether the engine logged `event` for the container between `since` and now (a bounded query, not a stream). */
  async sawEvent(containerId: string, event: string, since: Date): Promise<boolean> {
    return this.call('events', { container: containerId, event }, async () => {
      const stream = (await this.engine.getEvents({
        since: Math.floor(since.getTime() / 1000),
        until: Math.ceil(Date.now() / 1000),
        filters: { container: [containerId], event: [event] },
      })) as unknown as AsyncIterable<Buffer>;
      for await (const chunk of stream) if (chunk.length > 0) return true;
      return false;
    });
  }

  /** Engine events matching `filters` as they happen (newline-delimited JSON), until `signal` aborts. */
  events(filters: Record<string, string[]>, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    return this.call('events watch', { filters }, async () => {
      const stream = await this.engine.getEvents({ filters, abortSignal: signal } as Docker.GetEventsOptions);
      return stream as unknown as NodeJS.ReadableStream;
    });
  }

  /** `POST /containers/{id}/exec`: an exec instance, not yet started. */
  execCreate(container: EngineContainer, options: Docker.ExecCreateOptions): Promise<Docker.Exec> {
    return this.call('exec create', { container: container.id }, () => container.exec(options), 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
  }

  /** Starts an exec: the multiplexed output stream, a hijacked duplex when `stdin` is to be written. */
  async execStart(exec: Docker.Exec, stdin: boolean): Promise<NodeJS.ReadWriteStream> {
    return this.call('exec start', { exec: exec.id }, async () => {
      const stream = await exec.start({ hijack: stdin, stdin, Detach: false, Tty: false });
      return stream as unknown as NodeJS.ReadWriteStream;
    });
  }

  /** The exec's state: its exit code once it ended (`Running` false). */
  execInspect(exec: Docker.Exec): Promise<Docker.ExecInspectInfo> {
    return this.call('exec inspect', { exec: exec.id }, () => exec.inspect());
  }

  container(id: string): EngineContainer {
    return this.engine.getContainer(id);
  }

  async listVolumes(filters: Record<string, string[]>): Promise<Docker.VolumeInspectInfo[]> {
    const { Volumes } = await this.call('volume list', { filters }, () => this.engine.listVolumes({ filters }));
    // Podman 4.3 answers several label filters on volumes with the volumes matching ANY of
    // them (Docker: all of them), which would hand one sandbox's removal another's volume:
    // the labels are checked again here.
    return (Volumes ?? []).filter((v) => hasLabels(v.Labels, filters.label ?? []));
  }

  listContainers(filters: Record<string, string[]>): Promise<Docker.ContainerInfo[]> {
    return this.call('container list', { filters }, () => this.engine.listContainers({ all: true, filters }));
  }

  /** Container inspect with the size of its writable layer (`SizeRw`, bytes). */
  async writableLayerBytes(container: EngineContainer): Promise<number> {
    const info = await this.call('container inspect', { container: container.id, size: true }, () => container.inspect({ size: true } as Docker.ContainerInspectOptions));
    return (info as unknown as { SizeRw?: number }).SizeRw ?? 0;
  }

  /**
   * `POST /commit`: the container's filesystem as a new image whose config is `config`
   * (labels included, so the image is ours from the moment it exists); tagged when `tag` is given.
   */
  async commit(container: EngineContainer, config: Record<string, unknown>, tag?: { repo: string; tag: string }): Promise<string> {
    const query = { container: container.id, pause: false, ...(tag ?? {}) };
    const result = await this.call('container commit', { container: container.id }, () => container.commit({ _query: query, _body: config }));
    return (result as { Id: string }).Id;
  }

  listImages(filters: Record<string, string[]>): Promise<Docker.ImageInfo[]> {
    return this.call('image list', { filters }, () => this.engine.listImages({ all: true, filters }));
  }

  /** Removes an image by id or tag without force; 404 is not an error, 409 (in use, has children) is thrown. */
  async removeImage(name: string): Promise<void> {
    try {
      await this.call('image remove', { image: name }, () => this.engine.getImage(name).remove({ noprune: true }), 'SLIPWAY_ERR_IMAGE_NOT_FOUND');
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_IMAGE_NOT_FOUND') return;
      throw err;
    }
  }
}

/** Whether `labels` carries every `key` or `key=value` of a label filter. */
export function hasLabels(labels: Record<string, string> | null | undefined, filter: string[]): boolean {
  return filter.every((entry) => {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    return labels?.[key] !== undefined && (eq < 0 || labels[key] === entry.slice(eq + 1));
  });
}

/** An image's ENTRYPOINT as an argv (the engine answers a string, an array or nothing). */
function toArgvOrEmpty(value: string | string[] | undefined | null): string[] {
  if (Array.isArray(value)) return value;
  return value ? [value] : [];
}
