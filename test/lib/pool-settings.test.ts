// SLIPWAY_POOL as server/config.ts reads it: presets and tagged images with counts, the
// server's cap on the total, and one readable line for each kind of mistake.
import t from 'tap';
import { loadConfig } from '../../server/config.js';
import { POOL_MAX_TOTAL } from '../../lib/sandboxes/pool-settings.js';

const load = (pool: string, extra: Record<string, string> = {}) => loadConfig({ SLIPWAY_POOL: pool, SLIPWAY_DATA_DIR: '/tmp/slipway-pool-settings', ...extra });

t.test('a preset brings its image and environment, an image none; zero entries are dropped; no pool by default', async (t) => {
  const config = load(JSON.stringify({ deno: 1, 'busybox:1.36': 2, ruby: 0 }), { SLIPWAY_POOL_CHECK_SECONDS: '2' });
  t.same(config.pool.entries, [
    { key: 'deno', image: 'denoland/deno:2.1.4', env: { DENO_DIR: '/tmp/deno', DENO_NO_UPDATE_CHECK: '1' }, size: 1 },
    { key: 'busybox:1.36', image: 'busybox:1.36', env: {}, size: 2 },
  ]);
  t.equal(config.pool.checkIntervalSeconds, 2);
  t.same(loadConfig({ SLIPWAY_DATA_DIR: '/tmp/slipway-pool-settings' }).pool.entries, [], 'empty unless configured');
  t.same(load(JSON.stringify({ python: 1 }), { SLIPWAY_LANGUAGE_PRESETS: JSON.stringify({ python: { image: 'local/python:3' } }) }).pool.entries[0]?.image, 'local/python:3', 'the configured preset\'s image');
});

t.test('bad values stop start-up with one line naming the setting and what is accepted', async (t) => {
  t.throws(() => load('[1]'), { message: /^SLIPWAY_POOL must be a JSON object of language preset or image to a count/ });
  t.throws(() => load('{"python": -1}'), { message: 'SLIPWAY_POOL["python"] must be a whole number of containers (0 or more), got -1' });
  t.throws(() => load('{"python": "2"}'), { message: /SLIPWAY_POOL\["python"\] must be a whole number/ });
  t.throws(() => load('{"pyhton": 1}'), { message: /^SLIPWAY_POOL\["pyhton"\]: not a language preset \(python, .*\) nor an image reference with a tag such as busybox:1.36$/ });
  t.throws(() => load('{"busybox;rm:1": 1}'), { message: /not a language preset/ });
  t.throws(() => load(JSON.stringify({ python: POOL_MAX_TOTAL, 'busybox:1.36': 1 })), { message: `SLIPWAY_POOL asks for ${POOL_MAX_TOTAL + 1} pooled containers in all; the server keeps at most ${POOL_MAX_TOTAL}` });
  t.throws(() => load('{'), { message: 'SLIPWAY_POOL must be JSON' });
});
