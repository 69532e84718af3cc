/**
 * Builds an image from a Dockerfile the way the classic builder does inside the daemon,
 * but in the gateway, so every step is held to a run's limits (lib/docker/build-steps.ts):
 * - RUN: a hardened container from the previous image, run with the build's time budget
 *   and its writable layer measured against SLIPWAY_BUILD_MAX_LAYER_BYTES, then committed;
 * - COPY/ADD: context files (after .dockerignore) or a stage's / allowed image's files,
 *   put into a created container and committed; ADD never fetches and never extracts;
 * - ENV, ARG, WORKDIR, USER, LABEL, CMD, ENTRYPOINT, EXPOSE, SHELL, STOPSIGNAL,
 *   HEALTHCHECK: config only, carried into the next commit.
 * Each committed step image is labelled with a cache key (parent image, instruction after
 * expansion, config, content hash), so an identical rebuild reuses it (" ---> Using cache").
 * A failing step, a refused instruction and the time limit are outcomes, not exceptions.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Logger } from 'pino';
import type { BuildContext } from '../build-context.js';
import { packEntries } from '../build-context.js';
import { argDeclarations, planBuild, selectContextFiles, stageIndex, type BuildPlan, type CopyItem } from '../build-plan.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import { DockerfileError, expandWord, expandWords, keyValuePairs, type Instruction } from '../dockerfile.js';
import { SlipwayError } from '../errors.js';
import { BoundedLines, type BuildLimits, type ImageBuildOutcome } from '../image-build.js';
import { LABEL_BUILD, LABEL_BUILD_IMAGES, LABEL_BUILD_STEP, LABEL_INSTANCE, LABEL_KIND, LABEL_LAYER_BYTES, LABEL_MANAGED, LABEL_OWNER } from '../labels.js';
import { buildStepSpec, createIdle, removeQuietly, runStep, type StepConfig, type StepContext } from './build-steps.js';

export interface DockerfileBuildDeps {
  docker: DockerClient;
  log: Logger;
  instance: string;
  owner: string | null;
  limits: BuildLimits;
  runtime?: string | undefined;
  /** Labels of step containers (run id, owner, build marker included). */
  containerLabels: Record<string, string>;
  /** Throws (403) for an image the caller may not read. */
  checkImage(ref: string): void;
  /** Makes an image present through the gateway's own image path, or throws. */
  ensureImage(ref: string, signal: AbortSignal): Promise<void>;
}

export interface DockerfileBuildRequest {
  context: BuildContext;
  tag: string;
  /** Labels of the final image. */
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  target?: string | undefined;
}

export interface DockerfileBuildOptions {
  signal?: AbortSignal | undefined;
  onLine?: ((line: string) => void) | undefined;
  logMaxBytes: number;
}

interface StageState {
  imageId: string;
  config: StepConfig;
  args: Map<string, string>;
  cmdSet: boolean;
}

const KEY_VERSION = 'slipway-step/1';
const OURS = 'io.slipway.';
const id12 = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Refuses before any step (403 naming the Dockerfile) when the build would read an image the caller may not. */
export async function planAndCheck(deps: Pick<DockerfileBuildDeps, 'checkImage'>, context: BuildContext, buildArgs: Record<string, string>, target: string | undefined): Promise<BuildPlan | DockerfileError> {
  let plan: BuildPlan;
  try {
    plan = planBuild(await context.readDockerfile(), buildArgs, target);
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    if (err instanceof SlipwayError && err.field === 'dockerfile_path') return new DockerfileError(0, err.message);
    throw err;
  }
  for (const image of plan.images) deps.checkImage(image.ref);
  return plan;
}

export async function buildDockerfile(deps: DockerfileBuildDeps, req: DockerfileBuildRequest, plan: BuildPlan, options: DockerfileBuildOptions): Promise<ImageBuildOutcome> {
  const all = new BoundedLines(options.logMaxBytes);
  let step = new BoundedLines(options.logMaxBytes);
  const line = (text: string) => {
    all.push(text);
    step.push(text);
    options.onLine?.(text);
  };
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error('build time limit'));
  }, deps.limits.timeoutSeconds * 1000);
  const onCallerAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) onCallerAbort();
  const ctx: StepContext = { docker: deps.docker, log: deps.log, limits: deps.limits, containerLabels: deps.containerLabels, runtime: deps.runtime, signal: abort.signal };
  const failure = (reason: 'failed' | 'timed_out', message: string): ImageBuildOutcome => {
    line(`ERROR: ${message}`);
    return { ok: false, reason, message, stepLog: step.text(), log: all.text() };
  };
  try {
    const builder = new StageBuilder(deps, ctx, req, plan, line);
    const built: StageState[] = [];
    let last: StageState | undefined;
    for (const stage of plan.stages) {
      step = new BoundedLines(options.logMaxBytes);
      line(`Step ${++builder.stepNumber}/${plan.total} : FROM ${stage.from}${stage.name ? ` AS ${stage.name}` : ''}`);
      last = await builder.from(stage.from, stage.fromStage === null ? null : built[stage.fromStage]!, stage.fromLine);
      for (const ins of stage.instructions) {
        step = new BoundedLines(options.logMaxBytes);
        line(`Step ${++builder.stepNumber}/${plan.total} : ${ins.original}`);
        await builder.apply(last, ins, built);
      }
      built.push(last);
    }
    const imageId = await builder.finish(last!);
    line(`Successfully built ${id12(imageId)}`);
    line(`Successfully tagged ${req.tag}`);
    return { ok: true, imageId, log: all.text() };
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timedOut) return failure('timed_out', `the build exceeded its time limit of ${deps.limits.timeoutSeconds} seconds and was stopped`);
    if (err instanceof DockerfileError) return failure('failed', err.message);
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

class StageBuilder {
  stepNumber = 0;

  constructor(
    private readonly deps: DockerfileBuildDeps,
    private readonly ctx: StepContext,
    private readonly req: DockerfileBuildRequest,
    private readonly plan: BuildPlan,
    private readonly line: (text: string) => void,
  ) {}

  async from(ref: string, previous: StageState | null, lineNo: number): Promise<StageState> {
    if (previous) {
      this.line(` ---> ${id12(previous.imageId)}`);
      return { imageId: previous.imageId, config: structuredClone(previous.config), args: new Map(), cmdSet: false };
    }
    const info = await this.baseImage(ref, lineNo);
    const c = info.Config ?? ({} as Record<string, never>);
    this.line(` ---> ${id12(info.Id)}`);
    const config: StepConfig = {
      Env: c.Env ?? [],
      Cmd: c.Cmd ?? null,
      Entrypoint: (c.Entrypoint as string[] | null | undefined) ?? null,
      WorkingDir: c.WorkingDir ?? '',
      User: c.User ?? '',
      Labels: withoutOurs(c.Labels ?? {}),
      ExposedPorts: (c.ExposedPorts as StepConfig['ExposedPorts'] | undefined) ?? {},
      Shell: (c as { Shell?: string[] }).Shell ?? null,
      StopSignal: (c as { StopSignal?: string }).StopSignal,
      Healthcheck: (c as { Healthcheck?: unknown }).Healthcheck,
    };
    return { imageId: info.Id, config, args: new Map(), cmdSet: false };
  }

  /** An engine image the build reads: allowed, made present by the gateway, without ONBUILD triggers. */
  private async baseImage(ref: string, lineNo: number) {
    this.deps.checkImage(ref);
    await this.deps.ensureImage(ref, this.ctx.signal);
    const info = await this.deps.docker.inspectImage(ref);
    if (!info) throw new DockerfileError(lineNo, `image ${ref} is not present`);
    if ((info.Config?.OnBuild ?? []).length > 0) throw new DockerfileError(lineNo, `image ${ref} declares ONBUILD triggers, which builds here do not run`);
    return info;
  }

  async apply(state: StageState, ins: Instruction, built: StageState[]): Promise<void> {
    const { escape } = this.plan;
    const vars = new Map([...state.args, ...state.config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string])]);
    const shellForm = (args: string) => [...(state.config.Shell ?? ['/bin/sh', '-c']), args];
    const config = state.config;
    switch (ins.keyword) {
      case 'ARG':
        for (const [name, value] of argDeclarations(ins, vars, escape)) {
          const given = this.req.buildArgs[name] ?? value ?? this.plan.metaArgs.get(name);
          if (given !== undefined) state.args.set(name, given);
        }
        return;
      case 'ENV':
        for (const [name, value] of keyValuePairs(ins, vars, escape)) {
          config.Env = [...config.Env.filter((e) => !e.startsWith(`${name}=`)), `${name}=${value}`];
        }
        return;
      case 'LABEL':
        for (const [name, value] of keyValuePairs(ins, vars, escape)) config.Labels[name] = value;
        return;
      case 'WORKDIR':
        config.WorkingDir = posix.resolve(config.WorkingDir || '/', expandWord(ins.args, vars, escape));
        return;
      case 'USER':
        config.User = expandWord(ins.args, vars, escape);
        return;
      case 'CMD':
        config.Cmd = ins.json ?? shellForm(ins.args);
        state.cmdSet = true;
        return;
      case 'ENTRYPOINT':
        config.Entrypoint = ins.json ?? shellForm(ins.args);
        if (!state.cmdSet) config.Cmd = null; // as docker: a new ENTRYPOINT drops the base image's CMD
        return;
      case 'EXPOSE':
        for (const port of expandWords(ins.args, vars, escape)) config.ExposedPorts[port.includes('/') ? port : `${port}/tcp`] = {};
        return;
      case 'SHELL':
        if (!ins.json || ins.json.length === 0) throw new DockerfileError(ins.line, 'SHELL needs the JSON form, e.g. ["/bin/sh", "-c"]');
        config.Shell = ins.json;
        return;
      case 'STOPSIGNAL':
        config.StopSignal = expandWord(ins.args, vars, escape);
        return;
      case 'HEALTHCHECK':
        config.Healthcheck = healthcheck(ins, shellForm);
        return;
      case 'MAINTAINER':
        return;
      case 'RUN':
        return this.run(state, ins, shellForm);
      case 'COPY':
      case 'ADD':
        return this.copy(state, ins, vars, built);
    }
  }

  private async run(state: StageState, ins: Instruction, shellForm: (a: string) => string[]): Promise<void> {
    const argv = ins.json ?? shellForm(ins.args);
    const envNames = new Set(state.config.Env.map((e) => e.slice(0, e.indexOf('='))));
    const args = [...state.args].filter(([name]) => !envNames.has(name)).sort(([a], [b]) => (a < b ? -1 : 1));
    // Build arguments reach a shell-form step as exports in its script, so they never
    // become part of an image's config (container Env would be kept by the commit).
    const cmd = !ins.json && args.length > 0 && state.config.Shell === null ? [...argv.slice(0, -1), `export ${args.map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}; ${argv.at(-1)}`] : argv;
    const extraEnv = ins.json ? args.map(([k, v]) => `${k}=${v}`) : [];
    const key = this.stepKey(state, ['RUN', argv, args]);
    if (await this.reuse(state, key)) return;
    const container = await this.ctx.docker.createContainer(buildStepSpec(state.imageId, state.config, cmd, extraEnv, this.ctx));
    try {
      this.line(` ---> Running in ${id12(container.id)}`);
      const outcome = await runStep(this.ctx, container, this.line);
      if (outcome.exitCode === null) throw new DockerfileError(ins.line, this.layerMessage());
      if (outcome.exitCode !== 0) throw new DockerfileError(ins.line, `The command '${argv.join(' ')}' returned a non-zero code: ${outcome.exitCode}`);
      await this.commit(state, container, key, outcome.layerBytes);
    } finally {
      this.line(`Removing intermediate container ${id12(container.id)}`);
      await removeQuietly(this.ctx, container);
    }
  }

  private async copy(state: StageState, ins: Instruction, vars: Map<string, string>, built: StageState[]): Promise<void> {
    const { escape } = this.plan;
    const words = ins.json ?? expandWords(ins.args, vars, escape);
    if (words.length < 2) throw new DockerfileError(ins.line, `${ins.keyword} needs at least one source and a destination`);
    const sources = words.slice(0, -1);
    const dest = words.at(-1)!;
    const owner = chown(ins);
    const mode = ins.flags.chmod !== undefined ? parseMode(ins.flags.chmod, ins.line) : undefined;
    if (ins.flags.from !== undefined) {
      const from = expandWord(ins.flags.from, this.plan.metaArgs, escape);
      const index = stageIndex(this.plan.stages.slice(0, built.length), from);
      const sourceImage = index !== null ? built[index]!.imageId : (await this.baseImage(from, ins.line)).Id;
      const key = this.stepKey(state, ['COPY --from', sourceImage, sources, dest, owner, mode]);
      if (await this.reuse(state, key)) return;
      return this.withIdle(state, key, async (target) => {
        const source = await createIdle(this.ctx, sourceImage, state.config);
        try {
          for (const src of sources) {
            if (/[*?[]/.test(src)) throw new DockerfileError(ins.line, 'wildcards are not supported in COPY --from');
            const srcPath = posix.resolve('/', src);
            const destIsDir = dest.endsWith('/') || sources.length > 1;
            const destAbs = posix.resolve(state.config.WorkingDir || '/', dest);
            const tar = await this.ctx.docker.getArchive(source, srcPath).catch((err: unknown) => {
              throw new DockerfileError(ins.line, `${src} not found in ${from}: ${(err as Error).message}`);
            });
            await this.ctx.docker.putArchive(target, renameTar(tar, posix.basename(srcPath), destAbs, destIsDir, owner, mode), '/');
          }
        } finally {
          await removeQuietly(this.ctx, source);
        }
      });
    }
    const items = selectContextFiles(this.req.context.files, sources, dest, state.config.WorkingDir, ins.line);
    if (ins.keyword === 'ADD') await refuseArchives(items, sources, ins.line);
    const bytes = items.reduce((sum, i) => sum + i.entry.size, 0);
    if (bytes > this.deps.limits.maxLayerBytes) throw new DockerfileError(ins.line, this.layerMessage());
    const key = this.stepKey(state, [ins.keyword, await contentHash(items), owner, mode]);
    if (await this.reuse(state, key)) return;
    await this.withIdle(state, key, (target) => this.ctx.docker.putArchive(target, packEntries(items.map((i) => ({ ...i, ...owner, ...(mode !== undefined ? { mode } : {}) }))), '/'));
  }

  /** A created container of the current image: filled by `fill`, measured, committed, removed. */
  private async withIdle(state: StageState, key: string, fill: (c: EngineContainer) => Promise<void>): Promise<void> {
    const container = await createIdle(this.ctx, state.imageId, state.config);
    try {
      await fill(container);
      this.ctx.signal.throwIfAborted();
      const layerBytes = await this.ctx.docker.writableLayerBytes(container);
      if (layerBytes > this.deps.limits.maxLayerBytes) throw new DockerfileError(0, this.layerMessage());
      await this.commit(state, container, key, layerBytes);
    } finally {
      await removeQuietly(this.ctx, container);
    }
  }

  /** The final image: the last stage's config and the build's labels, under the build's tag. */
  async finish(state: StageState): Promise<string> {
    const container = await createIdle(this.ctx, state.imageId, state.config);
    try {
      const colon = this.req.tag.lastIndexOf(':');
      const labels = { ...withoutOurs(state.config.Labels), ...this.req.labels, ...(this.deps.owner ? { [LABEL_OWNER]: this.deps.owner } : {}), [LABEL_LAYER_BYTES]: '0', [LABEL_BUILD_IMAGES]: JSON.stringify(this.plan.images.map((i) => i.ref)) };
      return await this.ctx.docker.commit(container, { ...state.config, Labels: labels }, { repo: this.req.tag.slice(0, colon), tag: this.req.tag.slice(colon + 1) });
    } finally {
      await removeQuietly(this.ctx, container);
    }
  }

  private async commit(state: StageState, container: EngineContainer, key: string, layerBytes: number): Promise<void> {
    this.ctx.signal.throwIfAborted();
    const labels = {
      ...withoutOurs(state.config.Labels),
      [LABEL_MANAGED]: 'true',
      [LABEL_INSTANCE]: this.deps.instance,
      [LABEL_KIND]: 'repo',
      [LABEL_BUILD]: 'layer',
      [LABEL_BUILD_STEP]: key,
      [LABEL_LAYER_BYTES]: String(layerBytes),
      ...(this.deps.owner ? { [LABEL_OWNER]: this.deps.owner } : {}),
    };
    state.imageId = await this.ctx.docker.commit(container, { ...state.config, Labels: labels });
    this.line(` ---> ${id12(state.imageId)}`);
  }

  /** A step image this instance committed for the same key, if the engine still has one. */
  private async reuse(state: StageState, key: string): Promise<boolean> {
    const [found] = await this.ctx.docker.listImages({ label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${this.deps.instance}`, `${LABEL_BUILD_STEP}=${key}`] });
    if (!found) return false;
    state.imageId = found.Id;
    this.line(' ---> Using cache');
    this.line(` ---> ${id12(found.Id)}`);
    return true;
  }

  private stepKey(state: StageState, what: unknown[]): string {
    return createHash('sha256').update(JSON.stringify([KEY_VERSION, state.imageId, state.config, what])).digest('hex');
  }

  private layerMessage(): string {
    return `the step wrote more than the server's limit of ${(this.deps.limits.maxLayerBytes / 1024 / 1024).toFixed(1)} MiB for one build step (SLIPWAY_BUILD_MAX_LAYER_BYTES)`;
  }
}

function withoutOurs(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith(OURS)));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `--chown=uid[:gid]` in numbers (names would need the image's passwd file). */
function chown(ins: Instruction): { uid?: number; gid?: number } {
  const raw = ins.flags.chown;
  if (raw === undefined) return {};
  const m = /^(\d+)(?::(\d+))?$/.exec(raw);
  if (!m) throw new DockerfileError(ins.line, `--chown=${raw}: only numeric uid[:gid] is supported`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

function parseMode(raw: string, line: number): number {
  if (!/^[0-7]{3,4}$/.test(raw)) throw new DockerfileError(line, `--chmod=${raw}: an octal mode such as 755 is expected`);
  return parseInt(raw, 8);
}

function healthcheck(ins: Instruction, shellForm: (a: string) => string[]): unknown {
  const [kind, ...rest] = ins.args.split(/\s+/);
  if (kind?.toUpperCase() === 'NONE') return { Test: ['NONE'] };
  if (kind?.toUpperCase() !== 'CMD') throw new DockerfileError(ins.line, 'HEALTHCHECK takes NONE or CMD');
  const text = rest.join(' ');
  let json: string[] | undefined;
  try {
    json = text.startsWith('[') ? (JSON.parse(text) as string[]) : undefined;
  } catch {
    json = undefined;
  }
  const ns = (v: string | undefined) => (v === undefined ? 0 : duration(v, ins.line));
  return {
    Test: json ? ['CMD', ...json] : ['CMD-SHELL', shellForm(text).at(-1)!],
    Interval: ns(ins.flags.interval),
    Timeout: ns(ins.flags.timeout),
    StartPeriod: ns(ins.flags['start-period']),
    Retries: ins.flags.retries !== undefined ? Number(ins.flags.retries) : 0,
  };
}

function duration(text: string, line: number): number {
  const units: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n: string, u: string) => {
    total += Number(n) * units[u]!;
    return '';
  });
  if (rest !== '' || total <= 0) throw new DockerfileError(line, `invalid duration ${text}`);
  return Math.round(total);
}

/** sha256 of names, modes, link targets and file contents: the content part of a COPY's cache key. */
async function contentHash(items: CopyItem[]): Promise<string> {
  const hash = createHash('sha256');
  for (const { entry, name } of items) {
    hash.update(JSON.stringify([name, entry.type, entry.mode, entry.linkname ?? null, entry.size]));
    if (entry.type !== 'file') continue;
    const file = await open(entry.abs, 'r');
    try {
      for await (const chunk of file.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    } finally {
      await file.close();
    }
  }
  return hash.digest('hex');
}

/** ADD would extract a local archive; this builder does not, and says so rather than copy it differently. */
async function refuseArchives(items: CopyItem[], sources: string[], line: number): Promise<void> {
  const named = new Set(sources.map((s) => posix.normalize(s).replace(/^\/+|\/+$/g, '')));
  for (const { entry } of items) {
    if (entry.type !== 'file' || !named.has(entry.path)) continue;
    const file = await open(entry.abs, 'r');
    try {
      const head = Buffer.alloc(262);
      const { bytesRead } = await file.read(head, 0, 262, 0);
      const b = head.subarray(0, bytesRead);
      const archive = (b[0] === 0x1f && b[1] === 0x8b) || b.subarray(0, 3).toString() === 'BZh' || b.subarray(0, 6).equals(Buffer.from('fd377a585a00', 'hex')) || b.subarray(257, 262).toString() === 'ustar';
      if (archive) throw new DockerfileError(line, `ADD ${entry.path}: archives are not extracted here; use COPY, or RUN tar in a step`);
    } finally {
      await file.close();
    }
  }
}

/** A getArchive tar of `root` (a file or a directory) renamed to sit at `destAbs`. */
function renameTar(tar: NodeJS.ReadableStream, root: string, destAbs: string, destIsDir: boolean, owner: { uid?: number; gid?: number }, mode: number | undefined): Readable {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/\/+$/, '');
    let target: string;
    if (name === root && header.type !== 'directory') target = destIsDir ? posix.join(destAbs, root) : destAbs;
    else if (name === root) target = destAbs;
    else target = posix.join(destAbs, name.slice(root.length + 1));
    const renamed = { ...header, name: target.replace(/^\/+/, '') || '.', ...owner, ...(mode !== undefined && header.type !== 'symlink' ? { mode } : {}) };
    stream.pipe(pack.entry(renamed, next) as unknown as NodeJS.WritableStream);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err) => pack.destroy(err));
  tar.pipe(extract as unknown as NodeJS.WritableStream);
  return pack as unknown as Readable;
}
