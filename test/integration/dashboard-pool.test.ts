// The dashboard's Server page shows the warm pool (SLIPWAY_POOL) in a real browser:
// one row per entry with its idle, claimed and missed counts, moving as sandboxes are made.
import { join } from 'node:path';
import t from 'tap';
import { launchBrowser, screenshotDir } from '../fixtures/browser.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { waitFor } from '../fixtures/wait.js';

const launched = await launchBrowser();
if ('skip' in launched) {
  t.test('the dashboard shows the warm pool', { skip: launched.skip }, async () => {});
} else {
  const { browser } = launched;
  const gw = await startGateway({ SLIPWAY_POOL: JSON.stringify({ sh: 1 }), SLIPWAY_POOL_CHECK_SECONDS: '1' });
  t.teardown(async () => {
    await browser.close();
    await gw.close();
  });

  t.test('the server page lists each pool entry with idle, claimed and missed containers', async (t) => {
    await waitFor(async () => (await gw.request('GET', '/readyz')).body.details?.['pool sh']?.startsWith('idle 1/1'), { what: 'a full pool', timeoutMs: 30_000 });
    const box = await gw.request('POST', '/v1/sandboxes', { language: 'sh' });
    const cold = await gw.request('POST', '/v1/sandboxes', { language: 'sh' });
    t.equal(box.status, 200);
    const page = await browser.newPage();
    await page.goto(`${gw.url}/ui/#/server`);
    const row = page.locator('table.pool tbody tr');
    await row.first().waitFor();
    const cells = await row.first().locator('td').allInnerTexts();
    t.equal(cells[0], 'sh');
    t.equal(cells[1], BUSYBOX_IMAGE);
    t.equal(cells[3], '1', 'one claimed');
    t.match(cells[2], /^[01] \/ 1$/, 'idle out of the entry\'s size');
    t.match(cells[5], /^[01]$/, 'misses: the second create found the pool empty unless the refill was already done');
    await page.screenshot({ path: join(await screenshotDir('dashboard-pool'), '01-server-pool.png') });
    for (const b of [box, cold]) await gw.request('DELETE', `/v1/sandboxes/${b.body.sandbox_id}`);
  });
}
