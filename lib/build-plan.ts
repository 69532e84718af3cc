/**
 * A parsed Dockerfile checked before any step runs: every instruction is one the
 * gateway's builder interprets (anything else is refused naming its line), stages and
 * their names, the global ARGs a FROM may use, and every image the build will read
 * (each FROM and COPY --from that is not a stage), after ARG expansion, so the caller's
 * image allow-list is applied to all of them before anything is built.
 */
import { posix } from 'node:path';
import type { ContextEntry } from './build-context.js';
import { DockerfileError, expandWord, expandWords, isRemoteSource, parseDockerfile, type Instruction, type Variables } from './dockerfile.js';

export interface Stage {
  index: number;
  /** Lower-case stage name (`AS name`), or null. */
  name: string | null;
  /** The FROM image after expansion: an engine image, or a previous stage's name. */
  from: string;
  fromStage: number | null;
  fromLine: number;
  instructions: Instruction[];
}

export interface BuildPlan {
  escape: string;
  /** Global ARGs (before the first FROM), with the caller's build_args applied. */
  metaArgs: Map<string, string>;
  /** Stages to build, in order, up to and including the target. */
  stages: Stage[];
  /** Every engine image the build reads, with the line that reads it. */
  images: { ref: string; line: number }[];
  /** Instructions in the whole file, FROMs included (the N of "Step i/N"). */
  total: number;
}

const FLAGS: Record<string, string[]> = {
  FROM: [],
  RUN: [],
  COPY: ['from', 'chown', 'chmod'],
  ADD: ['chown', 'chmod'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'retries'],
};
const METADATA = ['ENV', 'ARG', 'WORKDIR', 'USER', 'LABEL', 'CMD', 'ENTRYPOINT', 'EXPOSE', 'SHELL', 'STOPSIGNAL', 'MAINTAINER'];
const REFUSED: Record<string, string> = {
  VOLUME: 'VOLUME is not supported: a build here makes no volumes',
  ONBUILD: 'ONBUILD is not supported',
};

export function planBuild(text: string, buildArgs: Record<string, string>, target?: string): BuildPlan {
  const { escape, instructions } = parseDockerfile(text);
  const metaArgs = new Map<string, string>();
  const stages: Stage[] = [];
  const images: BuildPlan['images'] = [];
  for (const ins of instructions) {
    checkInstruction(ins);
    if (ins.keyword === 'FROM') {
      const words = expandWords(ins.args, metaArgs, escape);
      const hasName = words.length === 3 && words[1]!.toUpperCase() === 'AS';
      if (words.length !== 1 && !hasName) throw new DockerfileError(ins.line, 'FROM takes an image and optionally AS name');
      const from = words[0]!;
      const fromStage = stageIndex(stages, from);
      if (from.toLowerCase() === 'scratch') throw new DockerfileError(ins.line, 'FROM scratch is not supported');
      if (fromStage === null) images.push({ ref: from, line: ins.line });
      stages.push({ index: stages.length, name: hasName ? words[2]!.toLowerCase() : null, from, fromStage, fromLine: ins.line, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new DockerfileError(ins.line, `${ins.keyword} before the first FROM`);
      for (const [name, value] of argDeclarations(ins, metaArgs, escape)) {
        const given = buildArgs[name] ?? value;
        if (given !== undefined) metaArgs.set(name, given);
      }
    } else {
      const stage = stages[stages.length - 1]!;
      if (ins.keyword === 'COPY' && ins.flags.from !== undefined) {
        const from = expandWord(ins.flags.from, metaArgs, escape);
        if (stageIndex(stages.slice(0, -1), from) === null) {
          if (stageIndex(stages, from) !== null) throw new DockerfileError(ins.line, `COPY --from=${from} names the stage it is in`);
          images.push({ ref: from, line: ins.line });
        }
      }
      stage.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'the Dockerfile has no FROM');
  let last = stages.length - 1;
  if (target !== undefined) {
    const found = stages.findIndex((s) => s.name === target.toLowerCase());
    if (found < 0) throw new DockerfileError(1, `target stage ${target} is not in the Dockerfile`);
    last = found;
  }
  const kept = stages.slice(0, last + 1);
  const keptLines = new Set(kept.flatMap((s) => [s.fromLine, ...s.instructions.map((i) => i.line)]));
  return { escape, metaArgs, stages: kept, images: images.filter((i) => keptLines.has(i.line)), total: instructions.length };
}

function checkInstruction(ins: Instruction): void {
  const refused = REFUSED[ins.keyword];
  if (refused) throw new DockerfileError(ins.line, refused);
  const allowed = FLAGS[ins.keyword] ?? (METADATA.includes(ins.keyword) ? [] : undefined);
  if (allowed === undefined) throw new DockerfileError(ins.line, `unknown or unsupported instruction ${ins.keyword}`);
  for (const flag of Object.keys(ins.flags)) {
    if (!allowed.includes(flag)) throw new DockerfileError(ins.line, `${ins.keyword} --${flag} is not supported`);
  }
  if (ins.keyword === 'ADD') {
    // The raw text too: a URL must be refused however it is spelled or assembled.
    if (/[A-Za-z][A-Za-z0-9+.-]*:\/\/|^git@|\sgit@/i.test(ins.args)) throw new DockerfileError(ins.line, 'ADD of a URL is not allowed: builds never fetch from the network');
  }
}

/** `ARG NAME` or `ARG NAME=default` (expanded with `vars`); value undefined when none. */
export function argDeclarations(ins: Instruction, vars: Variables, escape: string): [string, string | undefined][] {
  return expandWords(ins.args, vars, escape).map((w) => {
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DockerfileError(ins.line, `invalid ARG name ${name}`);
    return [name, eq < 0 ? undefined : w.slice(eq + 1)];
  });
}

/** A stage by name (case-insensitive) or index among `stages`, else null. */
export function stageIndex(stages: Pick<Stage, 'name'>[], ref: string): number | null {
  const byName = stages.findIndex((s) => s.name !== null && s.name === ref.toLowerCase());
  if (byName >= 0) return byName;
  return /^\d+$/.test(ref) && Number(ref) < stages.length ? Number(ref) : null;
}

export interface CopyItem {
  entry: ContextEntry;
  /** Path inside the image, without the leading `/`. */
  name: string;
}

/**
 * The context entries a COPY/ADD of `sources` to `dest` writes, and where: Docker's
 * rules (a directory's contents, `dest/` or several sources mean a directory, `*`/`?`
 * wildcards within a path component). URLs are refused here as well as in the plan.
 */
export function selectContextFiles(files: ContextEntry[], sources: string[], dest: string, workdir: string, line: number): CopyItem[] {
  const destAbs = posix.resolve(workdir || '/', dest);
  const wildcard = sources.some((s) => /[*?[]/.test(s));
  const destIsDir = dest.endsWith('/') || dest === '.' || sources.length > 1 || wildcard;
  const items: CopyItem[] = [];
  const place = (entry: ContextEntry, relative: string) => items.push({ entry, name: posix.join(destAbs, relative).replace(/^\/+/, '') });
  for (const src of sources) {
    if (isRemoteSource(src)) throw new DockerfileError(line, `${src} is a URL: builds never fetch from the network`);
    const clean = posix.normalize(`/${src}`).replace(/^\/+|\/+$/g, '');
    const matches = /[*?[]/.test(clean) ? files.filter((f) => globToRegExp(clean).test(f.path)) : clean === '' ? [] : files.filter((f) => f.path === clean);
    if (clean !== '' && matches.length === 0) throw new DockerfileError(line, `${src}: not found in the build context (or excluded by .dockerignore)`);
    const roots = clean === '' ? [{ path: '', type: 'directory' as const }] : matches;
    for (const root of roots) {
      if (root.type === 'directory') {
        const prefix = root.path === '' ? '' : `${root.path}/`;
        for (const f of files) if (f.path.startsWith(prefix) && f.path !== root.path) place(f, f.path.slice(prefix.length));
      } else {
        const entry = root as ContextEntry;
        items.push({ entry, name: (destIsDir ? posix.join(destAbs, posix.basename(entry.path)) : destAbs).replace(/^\/+/, '') });
      }
    }
  }
  return items;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}
