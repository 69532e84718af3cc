// sweepStaleClones: what a crashed build left in the clone directory goes; clones young
// enough to be under way, and anything not a clone, stay.
import t from 'tap';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLONE_PREFIX, sweepStaleClones } from '../../lib/git-clone.js';

t.test('old clone directories are removed, young ones and strangers kept', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-sweep-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const old = join(dir, `${CLONE_PREFIX}old`);
  const young = join(dir, `${CLONE_PREFIX}young`);
  const stranger = join(dir, 'someone-elses');
  for (const d of [old, young, stranger]) await mkdir(join(d, 'work'), { recursive: true });
  await writeFile(join(old, 'work', 'file'), 'x');
  const hourAgo = new Date(Date.now() - 3600_000);
  await utimes(old, hourAgo, hourAgo);
  await utimes(stranger, hourAgo, hourAgo);

  const removed = await sweepStaleClones(dir, 600);
  t.same(removed, [old]);
  t.same((await readdir(dir)).sort(), [`${CLONE_PREFIX}young`, 'someone-elses']);
  t.same(await sweepStaleClones(join(dir, 'missing'), 600), [], 'a missing directory is nothing to sweep');
});
