import t from 'tap';
import type { ServerRef } from 'isomorphic-git';
import { checkRefName, planFetch } from '../../lib/git-clone.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const TAG_OBJECT = 'd'.repeat(40);

// What a server advertises: HEAD as a symref to trunk, two branches, an annotated and a light tag.
const refs: ServerRef[] = [
  { ref: 'HEAD', oid: A, target: 'refs/heads/trunk' },
  { ref: 'refs/heads/trunk', oid: A },
  { ref: 'refs/heads/feature', oid: B },
  { ref: 'refs/tags/v1.0', oid: TAG_OBJECT, peeled: C },
  { ref: 'refs/tags/light', oid: B },
];

t.test('no ref: the default branch, from the HEAD symref (not a hard-coded main)', async (t) => {
  t.same(planFetch(refs, undefined), { kind: 'ref', ref: 'refs/heads/trunk' });
  // A server that advertises HEAD without the symref: the branch with HEAD's oid.
  const noSymref = refs.map((r) => (r.ref === 'HEAD' ? { ref: 'HEAD', oid: B } : r));
  t.same(planFetch(noSymref, undefined), { kind: 'ref', ref: 'refs/heads/feature' });
  t.throws(() => planFetch([], undefined), { code: 'SLIPWAY_ERR_REF_NOT_FOUND', field: 'repo_url' }, 'an empty repository');
});

t.test('names: a branch before a tag, full ref names as given', async (t) => {
  t.same(planFetch(refs, 'feature'), { kind: 'ref', ref: 'refs/heads/feature' });
  t.same(planFetch(refs, 'v1.0'), { kind: 'ref', ref: 'refs/tags/v1.0' });
  t.same(planFetch(refs, 'refs/tags/light'), { kind: 'ref', ref: 'refs/tags/light' });
  t.same(planFetch([...refs, { ref: 'refs/tags/feature', oid: C }], 'feature'), { kind: 'ref', ref: 'refs/heads/feature' });
  t.throws(() => planFetch(refs, 'nope'), { code: 'SLIPWAY_ERR_REF_NOT_FOUND', field: 'ref', statusCode: 404 });
});

t.test('SHAs: a ref that points there is fetched by name; others by SHA with the default branch as fallback', async (t) => {
  t.same(planFetch(refs, B), { kind: 'ref', ref: 'refs/heads/feature' });
  t.same(planFetch(refs, C.toUpperCase()), { kind: 'ref', ref: 'refs/tags/v1.0' }, 'a peeled tag, case-insensitive');
  t.same(planFetch(refs, 'aaaaaaa'), { kind: 'ref', ref: 'refs/heads/trunk' }, 'abbreviated');
  const other = 'e'.repeat(40);
  t.same(planFetch(refs, other), { kind: 'sha', sha: other, fallback: 'refs/heads/trunk' });
  t.same(planFetch(refs, 'eeeeeee'), { kind: 'sha', sha: 'eeeeeee', fallback: 'refs/heads/trunk' });
  t.throws(() => planFetch(refs, 'abc'), { code: 'SLIPWAY_ERR_REF_NOT_FOUND' }, 'too short to be a SHA');
});

t.test('ref names follow git check-ref-format', async (t) => {
  for (const ok of ['main', 'feature/x-1', 'v1.0', 'refs/tags/v2', A, 'release_2024.01']) t.doesNotThrow(() => checkRefName(ok), ok);
  for (const bad of ['', '-x', '--upload-pack=touch /tmp/x', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', 'x.lock', 'x/', '/x', 'a//b', 'a@{1}', '@', '.hidden', 'a/.b', 'x.', 'a\u0000b', 'a'.repeat(256)]) {
    t.throws(() => checkRefName(bad), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'ref' }, JSON.stringify(bad));
  }
});
