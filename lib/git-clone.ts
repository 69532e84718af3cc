/**
 * Shallow clone of one ref into a fresh temporary directory that is always removed.
 * isomorphic-git does the protocol; lib/git-http-client.ts holds the network policy,
 * the byte limit and the abort; this file decides what to fetch and maps failures
 * into the catalogue (404 naming `repo_url` or `ref`, 413, 502, 504).
 *
 * What is fetched, cheapest first:
 * - no ref: the remote's default branch (HEAD's symref target), depth 1;
 * - a branch or tag name (tried in that order, like git), depth 1, no other refs or tags;
 * - a commit SHA that some advertised ref points at: that ref, depth 1;
 * - any other full SHA: the SHA itself, depth 1, which servers allow with
 *   uploadpack.allowReachableSHA1InWant/allowAnySHA1InWant (GitHub, GitLab do); if
 *   the server refuses, and for abbreviated SHAs, the whole default branch (still
 *   under the byte and time limits) and the commit is looked up in it.
 * Submodules are never fetched (isomorphic-git does not support them; gitlinks stay empty).
 *
 * A repository's shape is not trusted (SECURITY.md): what the pack inflates to is bounded
 * while it arrives (lib/git-pack-inspector.ts, through the HTTP client), the files and
 * bytes a checkout would write are counted from the trees before anything is written
 * (lib/git-tree-budget.ts), and the writes themselves go through a bounded fs
 * (lib/git-clone-fs.ts) that also caps the descriptors held at once.
 *
 * Why in the gateway's process and not a worker: every step either streams with turns
 * of the event loop (the inspector, the tree walk, isomorphic-git's batched checkout) or
 * is bounded per object (isomorphic-git inflates one object whole, at most
 * SLIPWAY_GIT_OBJECT_MAX_BYTES); a worker's resourceLimits bound its JS heap, not the
 * Buffers isomorphic-git inflates into, so it would not have been the memory bound.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import git, { type ServerRef } from 'isomorphic-git';
import { invalidInput, SlipwayError } from './errors.js';
import { GitHttpClient } from './git-http-client.js';
import { checkRepoUrl, REPO_URL_FIELD, type RepoUrl, type Resolver } from './git-url-policy.js';
import { mapGitError } from './git-errors.js';
import { CloneFs } from './git-clone-fs.js';
import { checkTreeBudget } from './git-tree-budget.js';

/** Every clone directory's name starts so: sweepStaleClones finds what a crash left. */
export const CLONE_PREFIX = 'slipway-clone-';

/** Server-side credentials for one host: a user and password, or a token (sent as the password). */
export interface GitCredential {
  username?: string;
  password?: string;
  token?: string;
}

export interface CloneSettings {
  /** SLIPWAY_GIT_ALLOWED_HOSTS */
  allowedHosts: string[];
  /** By `host` or `host:port`; never from a caller. */
  credentials: Record<string, GitCredential>;
  /** Bytes the remote may send (pack and ref advertisements). */
  cloneMaxBytes: number;
  /** Bytes the clone may write to disk (pack, index, working tree), and its objects may inflate to. */
  cloneDiskMaxBytes: number;
  /** Bytes one object (file, tree, delta result) may inflate to. */
  cloneObjectMaxBytes: number;
  /** Files, directories and links a checkout may create. */
  cloneMaxFiles: number;
  /** File descriptors one clone may hold open at once. */
  cloneMaxOpenFiles: number;
  cloneTimeoutSeconds: number;
  /** Parent of the temporary clone directories. */
  workDir: string;
}

export interface CloneRequest {
  repoUrl: string;
  ref?: string | undefined;
}

export interface Checkout {
  /** The working tree (no .git inside: the git directory is a sibling). */
  dir: string;
  commitSha: string;
  /** What the ref resolved to: `refs/heads/trunk`, `refs/tags/v1`, or the SHA. */
  resolvedRef: string;
  repo: RepoUrl;
  bytesReceived: number;
}

export interface CloneOptions {
  signal?: AbortSignal | undefined;
  onLine?: ((line: string) => void) | undefined;
  /** DNS for the pre-flight check (tests); connections always use the system resolver. */
  resolve?: Resolver | undefined;
}

const SHA_PATTERN = /^[0-9a-f]{7,40}$/;

/** Clones, calls `fn` with the checkout, and removes the temporary directory whatever happens. */
export async function withClone<T>(settings: CloneSettings, request: CloneRequest, options: CloneOptions, fn: (checkout: Checkout) => Promise<T>): Promise<T> {
  const repo = await checkRequest(settings, request, options);
  await mkdir(settings.workDir, { recursive: true });
  const root = await mkdtemp(join(settings.workDir, CLONE_PREFIX));
  try {
    const checkout = await clone(settings, repo, request.ref, root, options);
    return await fn(checkout);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * The commit a ref names, from the remote's ref advertisement alone (no clone), so a
 * cached build can be found cheaply. Null when only a clone can tell (an abbreviated
 * SHA no ref points at). A full SHA is taken as given: a cache entry for it exists
 * only if it was once cloned.
 */
export async function resolveRemoteCommit(settings: CloneSettings, request: CloneRequest, options: CloneOptions): Promise<{ repo: RepoUrl; commitSha: string | null }> {
  const repo = await checkRequest(settings, request, options);
  const remote = openRemote(settings, repo, options);
  try {
    const refs = await remote.guard({ field: REPO_URL_FIELD }, () => git.listServerRefs({ ...remote.common, protocolVersion: 1, symrefs: true, peelTags: true }));
    const plan = planFetch(refs, request.ref);
    if (plan.kind === 'sha') return { repo, commitSha: plan.sha.length === 40 ? plan.sha : null };
    const advertised = refs.find((r) => r.ref === plan.ref);
    return { repo, commitSha: advertised ? (advertised.peeled ?? advertised.oid) : null };
  } finally {
    remote.http.close();
  }
}

async function checkRequest(settings: CloneSettings, request: CloneRequest, options: CloneOptions): Promise<RepoUrl> {
  const repo = await checkRepoUrl(request.repoUrl, { allowedHosts: settings.allowedHosts }, options.resolve);
  if (request.ref !== undefined) checkRefName(request.ref);
  options.signal?.throwIfAborted();
  return repo;
}

/** One conversation with the remote: its HTTP client, time limit, credentials and error mapping. */
function openRemote(settings: CloneSettings, repo: RepoUrl, options: CloneOptions) {
  const timeout = AbortSignal.timeout(settings.cloneTimeoutSeconds * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const http = new GitHttpClient({
    policy: { allowedHosts: settings.allowedHosts },
    signal,
    maxBytes: settings.cloneMaxBytes,
    pack: { objectMaxBytes: settings.cloneObjectMaxBytes, totalMaxBytes: settings.cloneDiskMaxBytes },
  });
  const url = repo.url.href.replace(/\/+$/, '');
  const credential = credentialFor(repo, settings.credentials);
  const common = { http, url, onAuth: () => credential ?? { cancel: true }, onAuthFailure: () => ({ cancel: true }) };
  // A bound the fs enforced wins over whatever isomorphic-git made of it (it may read
  // through a catch-all that calls any failure "not found").
  let fsFailure: () => SlipwayError | undefined = () => undefined;
  const guard = async <R>(what: { field: string; ref?: string | undefined }, step: () => Promise<R>): Promise<R> => {
    try {
      const result = await step();
      signal.throwIfAborted();
      const failure = fsFailure();
      if (failure) throw failure;
      return result;
    } catch (err) {
      throw fsFailure() ?? mapGitError(err, { ...what, client: http, timeout, caller: options.signal, timeoutSeconds: settings.cloneTimeoutSeconds });
    }
  };
  const watch = (fs: CloneFs) => {
    fsFailure = () => (options.signal?.aborted ? undefined : fs.failure);
  };
  return { http, url, common, guard, watch };
}

async function clone(settings: CloneSettings, repo: RepoUrl, ref: string | undefined, root: string, options: CloneOptions): Promise<Checkout> {
  const { http, url, common, guard, watch } = openRemote(settings, repo, options);
  const dir = join(root, 'tree');
  const gitdir = join(root, 'git');
  const fs = new CloneFs({ maxBytes: settings.cloneDiskMaxBytes, maxFiles: settings.cloneMaxFiles, maxOpen: settings.cloneMaxOpenFiles, treeDir: dir });
  watch(fs);
  // One cache for every step: without it isomorphic-git re-reads the pack per object.
  const cache = {};
  try {
    options.onLine?.(`Cloning ${repo.url.href}${ref ? ` at ${ref}` : ''}`);
    const refs = await guard({ field: REPO_URL_FIELD }, () => git.listServerRefs({ ...common, protocolVersion: 1, symrefs: true, peelTags: true }));
    const plan = planFetch(refs, ref);
    await guard({ field: REPO_URL_FIELD }, async () => {
      await mkdir(dir);
      await git.init({ fs, dir, gitdir });
      await git.addRemote({ fs, gitdir, remote: 'origin', url });
    });
    const fetchOne = (wanted: string, depth?: number) =>
      guard({ field: 'ref', ref: wanted }, () => git.fetch({ ...common, fs, cache, dir, gitdir, ref: wanted, singleBranch: true, tags: false, ...(depth ? { depth } : {}) }));

    let oid: string;
    if (plan.kind === 'ref') {
      oid = (await fetchOne(plan.ref, 1)).fetchHead!;
    } else {
      let fetched: string | null = null;
      if (plan.sha.length === 40) {
        // A refusal may come as an error, or (isomorphic-git ignores an ERR line there)
        // as a fetch that brought nothing: either way the object is not here.
        await fetchOne(plan.sha, 1).catch((err: unknown) => refusedWant(err));
        fetched = (await hasObject(fs, gitdir, plan.sha)) ? plan.sha : null;
      }
      if (!fetched) {
        options.onLine?.(`The server did not give ${plan.sha} directly; fetching the history of ${plan.fallback}`);
        await fetchOne(plan.fallback);
        fetched = await git.expandOid({ fs, gitdir, oid: plan.sha }).catch(() => null);
        if (!fetched) throw new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', `commit ${ref} was not found in ${repo.url.href}`, { field: 'ref' });
      }
      oid = fetched;
    }
    const commitSha = await guard({ field: 'ref', ref }, () => peelToCommit(fs, gitdir, oid, ref));
    const tree = await guard({ field: REPO_URL_FIELD }, () => checkTreeBudget({ fs, gitdir, cache }, commitSha, { maxFiles: settings.cloneMaxFiles, maxBytes: settings.cloneDiskMaxBytes }));
    // nonBlocking: files are written in batches, not all at once. Each file of a batch is
    // inflated whole before it is written, so a batch holds at most about two of the
    // largest objects allowed: many small files go 16 at a time, big ones one or two.
    const batchSize = Math.max(1, Math.min(settings.cloneMaxOpenFiles, Math.floor((2 * settings.cloneObjectMaxBytes) / Math.max(tree.largest, 1))));
    await guard({ field: REPO_URL_FIELD }, () => git.checkout({ fs, cache, dir, gitdir, ref: commitSha, force: true, noUpdateHead: true, nonBlocking: true, batchSize }));
    options.onLine?.(`Checked out ${commitSha} (${plan.kind === 'ref' ? plan.ref : 'commit'}), ${http.received} bytes received, ${tree.files} entries, ${tree.bytes} bytes`);
    return { dir, commitSha, resolvedRef: plan.kind === 'ref' ? plan.ref : commitSha, repo, bytesReceived: http.received };
  } finally {
    http.close();
  }
}

type Plan = { kind: 'ref'; ref: string } | { kind: 'sha'; sha: string; fallback: string };

/** Decides what to fetch from the advertised refs: see the file comment. */
export function planFetch(refs: ServerRef[], ref: string | undefined): Plan {
  const names = new Map(refs.map((r) => [r.ref, r]));
  const head = names.get('HEAD');
  // A server that advertises no HEAD symref (AWS CodeCommit did): the branch HEAD's oid matches.
  const defaultBranch = head?.target ?? refs.find((r) => r.ref.startsWith('refs/heads/') && r.oid === head?.oid)?.ref;
  if (ref === undefined) {
    if (!defaultBranch) throw new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', 'the repository has no default branch (is it empty?)', { field: REPO_URL_FIELD });
    return { kind: 'ref', ref: defaultBranch };
  }
  for (const candidate of ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`]) {
    if (names.has(candidate)) return { kind: 'ref', ref: candidate };
  }
  const sha = ref.toLowerCase();
  if (SHA_PATTERN.test(sha)) {
    const pointing = refs.filter((r) => r.ref !== 'HEAD' && (r.oid === sha || r.peeled === sha || (sha.length < 40 && (r.peeled ?? r.oid).startsWith(sha))));
    const unique = new Set(pointing.map((r) => r.peeled ?? r.oid));
    if (pointing[0] && unique.size === 1) return { kind: 'ref', ref: pointing[0].ref };
    if (!defaultBranch) throw new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', `commit ${ref} was not found`, { field: 'ref' });
    return { kind: 'sha', sha, fallback: defaultBranch };
  }
  throw new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', `no branch, tag or commit named ${ref}`, { field: 'ref' });
}

/** git check-ref-format's rules, plus a length cap; a SHA passes too. */
export function checkRefName(ref: string): void {
  const bad =
    ref.length === 0 ||
    ref.length > 255 ||
    /[\u0000-\u0020\u007f~^:?*[\\]/.test(ref) ||
    ref.startsWith('-') ||
    ref.startsWith('/') ||
    ref.endsWith('/') ||
    ref.endsWith('.') ||
    ref.endsWith('.lock') ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.includes('@{') ||
    ref === '@' ||
    ref.split('/').some((part) => part.startsWith('.'));
  if (bad) throw invalidInput('ref', 'ref must be a branch, tag or commit name as git accepts it');
}

/** A fetch by SHA the server refused ("not our ref"): null, so the caller falls back. */
function refusedWant(err: unknown): null {
  if (err instanceof SlipwayError && (err.code === 'SLIPWAY_ERR_REF_NOT_FOUND' || err.code === 'SLIPWAY_ERR_GIT_REMOTE')) return null;
  throw err;
}

async function hasObject(fs: CloneFs, gitdir: string, oid: string): Promise<boolean> {
  return git.readObject({ fs, gitdir, oid, format: 'deflated' }).then(
    () => true,
    () => false,
  );
}

async function peelToCommit(fs: CloneFs, gitdir: string, oid: string, ref: string | undefined): Promise<string> {
  for (let depth = 0; depth < 10; depth++) {
    const { type, object } = await git.readObject({ fs, gitdir, oid, format: 'parsed' });
    if (type === 'commit') return oid;
    if (type !== 'tag') break;
    oid = (object as { object: string }).object;
  }
  throw new SlipwayError('SLIPWAY_ERR_REF_NOT_FOUND', `${ref ?? 'the default branch'} does not point to a commit`, { field: 'ref' });
}

function credentialFor(repo: RepoUrl, credentials: Record<string, GitCredential>): { username: string; password: string } | undefined {
  const found = credentials[`${repo.host}:${repo.port}`] ?? credentials[repo.host];
  if (!found) return undefined;
  // GitHub and GitLab accept any user name with a token as the password.
  if (found.token !== undefined) return { username: found.username ?? 'x-access-token', password: found.token };
  return { username: found.username ?? '', password: found.password ?? '' };
}

/**
 * Removes clone directories left by a process that died mid-build. Only those older
 * than any clone and build could take are touched, so another gateway's clone in the
 * same directory is never pulled from under it.
 */
export async function sweepStaleClones(workDir: string, maxAgeSeconds: number, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(CLONE_PREFIX)) continue;
    const path = join(workDir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory() || now - info.mtimeMs < maxAgeSeconds * 1000) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
