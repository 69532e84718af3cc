/**
 * What a checkout would write, counted from the commit's trees before a single file is
 * written: entries (files, directories, links, gitlinks) against SLIPWAY_GIT_MAX_FILES
 * and the sum of file sizes against SLIPWAY_GIT_CLONE_DISK_MAX_BYTES. Counted path by
 * path, as the checkout would write them: a tree or blob used in many places counts each
 * time, so a small repository that repeats one subtree a thousand times is seen for
 * what it would become. The walk stops at the first entry past a bound.
 *
 * A blob's size comes from its pack entry's header (lib/git-pack-sizes.ts); only a
 * deltified blob is inflated to learn it, once per distinct blob, one at a time. The
 * event loop gets a turn every few entries.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import git from 'isomorphic-git';
import { SlipwayError } from './errors.js';
import { REPO_URL_FIELD } from './git-url-policy.js';
import { PackedSizes } from './git-pack-sizes.js';

export interface TreeBudget {
  maxFiles: number;
  maxBytes: number;
}

export interface TreeSource {
  fs: Parameters<typeof git.readTree>[0]['fs'];
  gitdir: string;
  /** isomorphic-git's cache object, shared so the pack is read once. */
  cache: object;
}

const YIELD_EVERY_ENTRIES = 256;

export interface TreeCount {
  files: number;
  bytes: number;
  /** The largest file: how many the checkout may hold in memory at once depends on it. */
  largest: number;
}

export async function checkTreeBudget(source: TreeSource, commitSha: string, budget: TreeBudget): Promise<TreeCount> {
  const packed = await PackedSizes.open(source.gitdir);
  try {
    return await walk(source, packed, commitSha, budget);
  } finally {
    await packed.close();
  }
}

async function walk(source: TreeSource, packed: PackedSizes, commitSha: string, budget: TreeBudget): Promise<TreeCount> {
  const sizes = new Map<string, number>();
  const trees = [commitSha];
  let files = 0;
  let bytes = 0;
  let largest = 0;
  while (trees.length > 0) {
    const { tree } = await git.readTree({ ...source, oid: trees.pop()! });
    for (const entry of tree) {
      if (++files > budget.maxFiles) throw tooLarge(`more than ${budget.maxFiles} files and directories (SLIPWAY_GIT_MAX_FILES)`);
      if (files % YIELD_EVERY_ENTRIES === 0) await nextTurn();
      if (entry.type === 'tree') trees.push(entry.oid);
      if (entry.type !== 'blob') continue;
      let size = sizes.get(entry.oid);
      if (size === undefined) {
        size = (await packed.size(entry.oid)) ?? (await git.readBlob({ ...source, oid: entry.oid })).blob.length;
        sizes.set(entry.oid, size);
      }
      bytes += size;
      largest = Math.max(largest, size);
      if (bytes > budget.maxBytes) throw tooLarge(`its files hold more than ${budget.maxBytes} bytes (SLIPWAY_GIT_CLONE_DISK_MAX_BYTES)`);
    }
  }
  return { files, bytes, largest };
}

function tooLarge(what: string): SlipwayError {
  return new SlipwayError('SLIPWAY_ERR_REPO_TOO_LARGE', `repository too large: ${what}`, { field: REPO_URL_FIELD });
}
