// The dashboard in a real browser (Debian's chromium through playwright-core) against a
// real gateway with tokens and real containers: sign in, watch runs appear, follow a
// log live through a dropped connection, cancel a run, stop a container, and read the
// caller's policy; the token never goes into a URL. Screenshots land in .tap/screenshots/.
import { join } from 'node:path';
import t from 'tap';
import type { Page, Request } from 'playwright-core';
import { launchBrowser, screenshotDir } from '../fixtures/browser.js';
import { waitUntilGone } from '../fixtures/engine-view.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { bearer, writeTokensFile, type TestToken } from '../fixtures/tokens.js';

const ADMIN: TestToken = { name: 'ops', token: 'dashboard-admin-token-0123456789', scopes: ['admin'] };
const CI: TestToken = { name: 'ci', token: 'dashboard-ci-token-0123456789', scopes: ['run', 'read'] };

const launched = await launchBrowser();
if ('skip' in launched) {
  t.test('the dashboard works in a real browser', { skip: launched.skip }, async () => {});
} else {
  const { browser } = launched;
  const shots = await screenshotDir('dashboard');
  const gw = await startGateway({ SLIPWAY_TOKENS_FILE: await writeTokensFile([ADMIN, CI]) });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const requests: Request[] = [];
  page.on('request', (request) => void requests.push(request));
  // Cancel and stop ask before they act; the person says yes.
  page.on('dialog', (dialog) => void dialog.accept());
  t.teardown(async () => {
    await browser.close();
    await gw.close();
  });

  const as = (who: { token: string }) => bearer(who.token);
  /** Starts a run through the API, not waiting for it. */
  const startRun = async (command: string, who = CI): Promise<string> => {
    const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', command], wait: false }, as(who));
    if (res.status !== 202) throw new Error(`run not started: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.run_id as string;
  };
  /** The API as the admin sees it, for the shared run waits. */
  const admin = { request: (method: string, path: string) => gw.request(method, path, undefined, as(ADMIN)) };
  const runState = async (runId: string): Promise<string> => (await admin.request('GET', `/v1/runs/${runId}`)).body.status;
  const stdoutOf = (p: Page) => p.locator('pre.log .stdout').allTextContents().then((parts) => parts.join(''));
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  await t.test('the page asks for a token, refuses a wrong one, and keeps the right one in the tab only', async (t) => {
    const root = await fetch(gw.url, { redirect: 'manual' });
    t.equal(root.headers.get('location'), '/ui/', '/ redirects to the dashboard');
    await page.goto(`${gw.url}/ui/`);
    await page.locator('form.login').waitFor({ state: 'visible' });
    t.ok(await page.locator('header nav').isHidden(), 'nothing but the sign-in form before a token');
    await page.fill('form.login input[name=token]', 'not-a-token');
    await page.click('form.login button[type=submit]');
    await page.getByText('That token was not accepted.').waitFor();
    await page.fill('form.login input[name=token]', ADMIN.token);
    await page.click('form.login button[type=submit]');
    await page.getByText('Signed in as ops').waitFor();
    t.equal(await page.evaluate(() => sessionStorage.getItem('slipway.token')), ADMIN.token, 'in session storage');
    t.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in local storage, which outlives the tab');
    await shot('01-runs-empty');
  });

  await t.test('the browser parses an event stream cut at any point as the server meant it', async (t) => {
    const events = await page.evaluate(async () => {
      const module = '/ui/sse.js'; // the page's own module, as the page loads it
      const { SseParser } = await import(module);
      const parser = new SseParser();
      const text = ': heartbeat\n\nid: 1\nevent: stdout\ndata: {"a":1}\n\nid: 2\r\nevent: stderr\r\ndata: one\r\ndata: two\r\n\r\nevent: status\ndata:x\n\nretry: 500\n\n';
      // One character at a time: every split of a line, of \r\n, and of an event.
      return [...text].flatMap((c) => parser.push(c)).concat([{ retry: parser.retry }]);
    });
    t.same(events, [
      { id: '1', type: 'stdout', data: '{"a":1}' },
      { id: '2', type: 'stderr', data: 'one\ntwo' },
      { id: '2', type: 'status', data: 'x' },
      { retry: 500 },
    ]);
  });

  await t.test('a run started through the API appears, and its log lines arrive live, stdout and stderr apart', async (t) => {
    await page.goto(`${gw.url}/ui/#/runs`);
    const runId = await startRun('for i in 1 2 3 4 5 6; do echo line $i; echo warn $i >&2; sleep 1; done');
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    await shot('02-runs-live');
    await row.locator('a').click();
    await page.locator('pre.log .stdout', { hasText: 'line 2' }).waitFor();
    t.equal(await runState(runId), 'running', 'lines show while the run still goes on');
    await page.locator('.stream-state[data-state=ended]').waitFor({ timeout: 30_000 });
    t.equal(await stdoutOf(page), [1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join(''), 'every stdout line, once, in order');
    const stderr = await page.locator('pre.log .stderr').allTextContents();
    t.equal(stderr.join(''), [1, 2, 3, 4, 5, 6].map((i) => `warn ${i}\n`).join(''), 'stderr lines marked as stderr');
    t.equal(await page.locator('pre.log .line.stderr').first().evaluate((el) => getComputedStyle(el).color), 'rgb(255, 155, 147)', 'and shown in another colour');
    await page.locator('dl.facts [data-status=succeeded]').waitFor();
    t.equal(await page.locator('button', { hasText: 'Cancel run' }).count(), 0, 'no cancel button on a finished run');
    await shot('03-run-finished');
  });

  await t.test('a dropped log connection resumes after the last line shown, losing and repeating nothing', async (t) => {
    const runId = await startRun('for i in 1 2 3 4 5 6; do echo line $i; sleep 1; done');
    await page.goto(`${gw.url}/ui/#/runs/${runId}`);
    await page.locator('pre.log .stdout', { hasText: 'line 2' }).waitFor();
    gw.app.server.closeAllConnections();
    await page.locator('.stream-state[data-state=ended]').waitFor({ timeout: 30_000 });
    t.equal(await stdoutOf(page), [1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join(''));
    const logRequests = requests.filter((r) => r.url().endsWith(`/v1/runs/${runId}/logs`));
    t.ok(logRequests.length >= 2, 'the page connected again');
    t.match(logRequests.at(-1)!.headers()['last-event-id'], /^\d+$/, 'saying where it was');
  });

  await t.test('the cancel button cancels a running run and its container goes', async (t) => {
    const runId = await startRun('sleep 60');
    const { container_id: containerId } = await pollUntilRunning(admin, runId);
    await page.goto(`${gw.url}/ui/#/runs/${runId}`);
    await page.locator('button', { hasText: 'Cancel run' }).click();
    await page.locator('dl.facts [data-status=cancelled]').waitFor();
    t.equal(await runState(runId), 'cancelled');
    t.ok(await waitUntilGone(containerId), 'the engine no longer has the container');
    await shot('04-run-cancelled');
  });

  await t.test('the containers page stops a running container', async (t) => {
    const runId = await startRun('sleep 60');
    const { container_id: containerId } = await pollUntilRunning(admin, runId);
    await page.goto(`${gw.url}/ui/#/containers`);
    const row = page.locator(`tr[data-container-id="${containerId}"]`);
    await row.waitFor();
    await shot('05-containers');
    await row.locator('button', { hasText: 'Stop' }).click();
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    t.equal((await pollUntilFinal(admin, runId)).status, 'cancelled', 'its run ended cancelled');
    t.ok(await waitUntilGone(containerId), 'the engine no longer has the container');
  });

  await t.test('an admin filters runs by owner, status and kind', async (t) => {
    const mine = await startRun('echo admin', ADMIN);
    const theirs = await startRun('echo ci', CI);
    await pollUntilFinal(admin, mine);
    await pollUntilFinal(admin, theirs);
    await page.goto(`${gw.url}/ui/#/runs`);
    await page.locator(`tr[data-run-id="${mine}"]`).waitFor();
    await page.selectOption('select[name=owner]', 'ci');
    await page.locator(`tr[data-run-id="${theirs}"]`).waitFor();
    await page.locator(`tr[data-run-id="${mine}"]`).waitFor({ state: 'detached' });
    t.match(page.url(), /owner=ci/, 'the filter is in the address');
    await page.selectOption('select[name=status]', 'cancelled');
    await page.locator(`tr[data-run-id="${theirs}"]`).waitFor({ state: 'detached' });
    // The table is redrawn after the filtered fetch answers: wait for the redrawn rows, not
    // the moment between clearing and drawing (an empty list there failed under load).
    await page
      .waitForFunction(() => document.querySelectorAll('tbody [data-status]').length >= 2, undefined, { timeout: 20_000 })
      .catch(() => undefined);
    const statuses = await page.locator('tbody [data-status]').allTextContents();
    t.ok(statuses.length >= 2 && statuses.every((s) => s === 'cancelled'), `only cancelled runs of ci: ${statuses.join(', ')}`);
    await page.selectOption('select[name=kind]', 'payload');
    await page.getByText('No runs match these filters.').waitFor();
  });

  await t.test('the sandboxes page lists sandboxes, or says there are none on this server', async (t) => {
    const api = await gw.request('GET', '/v1/sandboxes', undefined, as(ADMIN));
    await page.goto(`${gw.url}/ui/#/sandboxes`);
    if (api.status === 404 && api.body.error.code === 'SLIPWAY_ERR_ROUTE_NOT_FOUND') {
      await page.getByText('No sandboxes on this server.').waitFor();
      t.pass('no sandboxes API here, and the page says so');
    } else {
      t.equal(api.status, 200, 'the sandboxes API answers');
      const created = await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' }, as(CI));
      t.equal(created.status, 200, JSON.stringify(created.body));
      t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${created.body.sandbox_id}`, undefined, as(CI)));
      await page.locator('table.sandboxes').waitFor();
      await page.getByText(/Updated|No sandboxes\./).waitFor();
      t.pass('the sandboxes table is shown');
      const row = page.locator(`tr[data-sandbox-id="${created.body.sandbox_id}"]`);
      await row.locator('td.memory', { hasText: /^\d+ (KiB|MiB)$/ }).waitFor();
      t.match(await row.locator('td.cpu').innerText(), /^\d+\.\d\d s$/, 'its row shows the CPU time and memory it uses now');
    }
    await shot('06-sandboxes');
  });

  await t.test('the server page shows the engine and the limits this caller has', async (t) => {
    await page.goto(`${gw.url}/ui/#/server`);
    await page.locator('[data-ready=true]').waitFor();
    const text = await page.locator('main').innerText();
    t.match(text, /Backend\s+docker/);
    t.match(text, /Caps\s+2\.0 GiB memory, 2 CPU, 256 processes, 3600 s/, 'the server\'s caps, as the caller sees them');
    t.match(text, /Caller\s+ops/);
    await shot('07-server');
  });

  await t.test('no request the page made carries the token in its URL, and every API call carried it as a header', async (t) => {
    t.ok(requests.length > 20, `${requests.length} requests recorded`);
    t.same(requests.map((r) => r.url()).filter((url) => url.includes(ADMIN.token) || url.includes(CI.token)), []);
    const apiCalls = requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/'));
    const unsigned = apiCalls.filter((r) => r.headers().authorization !== `Bearer ${ADMIN.token}`);
    // Before signing in the page asked once with no token, then once with a wrong one.
    t.same(unsigned.map((r) => `${r.method()} ${new URL(r.url()).pathname} ${r.headers().authorization ?? ''}`), ['GET /v1/info ', 'GET /v1/info Bearer not-a-token']);
    t.ok(apiCalls.some((r) => r.url().endsWith('/logs')), 'the log stream is among them');
  });
}
