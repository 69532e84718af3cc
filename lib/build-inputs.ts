/**
 * The inputs of a repository build: checked (build argument names and sizes, the
 * target stage), and hashed into the cache key and image tag. Two requests with the
 * same inputs get the same tag, so the second finds the first's image and is not
 * built again; anything that could change the image is in the key.
 */
import { createHash } from 'node:crypto';
import { invalidInput } from './errors.js';

/** Docker's ARG names in practice: what a shell variable may be called. */
export const BUILD_ARG_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const BUILD_ARG_VALUE_MAX_BYTES = 4096;
export const BUILD_ARGS_MAX = 64;
/** A Dockerfile stage name (`FROM x AS name`). */
export const TARGET_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,127}$';
/** Repository part of every image Slipway builds from a repository. */
export const BUILD_IMAGE_NAMESPACE = 'slipway-build';
/** Raise when the build process changes what an image contains, so old tags stop matching. */
const KEY_VERSION = 'slipway-repo-build/2';

export interface BuildInputs {
  /** Instance of the gateway: two gateways sharing an engine never share a build tag. */
  instance: string;
  repoUrl: string;
  commitSha: string;
  /** Normalised by cleanRelativePath: `.`, `sub`, `sub/dir`. */
  contextPath: string;
  dockerfilePath: string;
  buildArgs: Record<string, string>;
  target?: string | undefined;
}

export function checkBuildArgs(args: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(args ?? {});
  if (entries.length > BUILD_ARGS_MAX) throw invalidInput('build_args', `at most ${BUILD_ARGS_MAX} build arguments`);
  const pattern = new RegExp(BUILD_ARG_NAME_PATTERN);
  for (const [name, value] of entries) {
    if (!pattern.test(name) || name.length > 256) throw invalidInput(`build_args.${name}`, 'build argument names are letters, digits and _, not starting with a digit');
    if (typeof value !== 'string') throw invalidInput(`build_args.${name}`, 'build argument values are strings');
    if (Buffer.byteLength(value) > BUILD_ARG_VALUE_MAX_BYTES) throw invalidInput(`build_args.${name}`, `build argument values are at most ${BUILD_ARG_VALUE_MAX_BYTES} bytes`);
    if (value.includes('\0')) throw invalidInput(`build_args.${name}`, 'build argument values must not contain NUL');
  }
  return Object.fromEntries(entries);
}

export function checkTarget(target: string | undefined): string | undefined {
  if (target !== undefined && !new RegExp(TARGET_PATTERN).test(target)) throw invalidInput('target', 'target must be a stage name such as `test` or `runtime`');
  return target;
}

/** The same repository however it was spelled: lower-case host, no trailing slash or `.git`. */
export function normaliseRepoUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}${u.search}`;
}

/** sha256 over every input, in a fixed order; build arguments sorted by name. */
export function cacheKey(inputs: BuildInputs): string {
  const canonical = JSON.stringify([
    KEY_VERSION,
    inputs.instance,
    normaliseRepoUrl(inputs.repoUrl),
    inputs.commitSha.toLowerCase(),
    inputs.contextPath,
    inputs.dockerfilePath,
    Object.entries(inputs.buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    inputs.target ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * `slipway-build/<host-and-path>:<first 32 hex of the key>`: readable in `docker images`,
 * and valid under Docker's grammar (lower-case path components, at most 128-char tag).
 */
export function buildImageTag(repoUrl: string, key: string): string {
  return `${BUILD_IMAGE_NAMESPACE}/${sanitiseRepoName(repoUrl)}:${key.slice(0, 32)}`;
}

/** `https://GitHub.com/Owner/My_Repo.git` -> `github.com-owner-my_repo`: one path component. */
export function sanitiseRepoName(repoUrl: string): string {
  let name = repoUrl;
  try {
    const u = new URL(repoUrl);
    name = `${u.hostname}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`;
  } catch {
    // not a URL: sanitise the text as it is
  }
  const clean = name
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 100)
    .replace(/[^a-z0-9]+$/, '');
  return clean || 'repo';
}
