// Liveness, readiness, the OpenAPI document and its page; readiness and runs when the engine is away.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';

t.test('with an engine', async (t) => {
  const gw = await startGateway();
  t.teardown(() => gw.close());

  t.match(await gw.request('GET', '/healthz'), { status: 200, body: { status: 'ok' } });
  t.match(await gw.request('GET', '/readyz'), { status: 200, body: { status: 'ready' } });

  const doc = await gw.request('GET', '/openapi.json');
  t.equal(doc.status, 200);
  t.equal(doc.body.openapi, '3.1.0');
  for (const path of ['/v1/containers/run', '/v1/payloads/run', '/v1/containers', '/v1/containers/{container_id}/stop', '/v1/images/pull', '/healthz', '/readyz']) {
    t.ok(doc.body.paths[path], `documents ${path}`);
  }
  const runBody = doc.body.paths['/v1/containers/run'].post.requestBody.content['application/json'].schema;
  t.equal(runBody.additionalProperties, false, 'inputs refuse unknown fields');
  t.ok(runBody.properties.image && runBody.properties.memory_limit, 'fields come from the TypeBox schema');
  t.same(doc.body.paths['/v1/containers/run'].post.tags, ['runs']);
  t.notOk(doc.body.components?.securitySchemes?.bearer, 'an open server documents no bearer scheme (a gateway with tokens does: test/server/openapi.test.ts)');
  t.same(doc.body.paths['/healthz'].get.security, [], 'health needs no token');

  const page = await fetch(`${gw.url}/docs`, { redirect: 'follow' });
  t.equal(page.status, 200);
  t.match(await page.text(), /swagger/i, 'a browsable page');
});

t.test('with the engine away: alive, not ready, and runs answer 503', async (t) => {
  const gw = await startGateway({ DOCKER_HOST: 'unix:///tmp/slipway-no-engine.sock' });
  t.teardown(() => gw.close());
  t.match(await gw.request('GET', '/healthz'), { status: 200 });
  const ready = await gw.request('GET', '/readyz');
  t.equal(ready.status, 503);
  t.match(ready.body.error, { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE' });
  const run = await gw.request('POST', '/v1/containers/run', { image: 'busybox', command: ['true'] });
  t.equal(run.status, 503);
  t.match(run.body.error, { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE', message: /not reachable/ });
  t.notMatch(run.body.error.message, /slipway-no-engine/, 'the socket path is not leaked');
});
