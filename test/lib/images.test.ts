import t from 'tap';
import { registryOf, withExplicitTag } from '../../lib/image-ref.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

t.test('withExplicitTag adds :latest only where no tag or digest is given', async (t) => {
  const cases: [string, string][] = [
    ['python', 'python:latest'],
    ['python:3.12-slim', 'python:3.12-slim'],
    ['library/python', 'library/python:latest'],
    ['team/tool:1.2', 'team/tool:1.2'],
    ['registry.example.com/team/tool', 'registry.example.com/team/tool:latest'],
    ['registry.example.com/team/tool:1.2', 'registry.example.com/team/tool:1.2'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
    ['127.0.0.1:5055/slipway-test/busybox', '127.0.0.1:5055/slipway-test/busybox:latest'],
    [`python@${DIGEST}`, `python@${DIGEST}`],
    [`python:3@${DIGEST}`, `python:3@${DIGEST}`],
    [`localhost:5000/app@${DIGEST}`, `localhost:5000/app@${DIGEST}`],
  ];
  for (const [ref, tagged] of cases) t.equal(withExplicitTag(ref), tagged, ref);
});

t.test('registryOf: docker.io unless the first component has a dot, a port, or is localhost', async (t) => {
  const cases: [string, string][] = [
    ['python', 'docker.io'],
    ['python:3.12', 'docker.io'],
    ['library/python:3', 'docker.io'],
    ['team/tool', 'docker.io'],
    ['my-org/sub/tool:1', 'docker.io'],
    [`python@${DIGEST}`, 'docker.io'],
    ['docker.io/library/python', 'docker.io'],
    ['ghcr.io/owner/tool:1', 'ghcr.io'],
    ['registry.example.com/team/tool', 'registry.example.com'],
    [`registry.example.com/team/tool@${DIGEST}`, 'registry.example.com'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app:v1', 'localhost:5000'],
    ['127.0.0.1:5055/slipway-test/busybox:pull', '127.0.0.1:5055'],
    ['myhost:5000/app', 'myhost:5000'],
    ['localhost', 'docker.io'],
    ['localhost:5000', 'docker.io'],
  ];
  for (const [ref, registry] of cases) t.equal(registryOf(ref), registry, ref);
});

t.test('credentials keyed by host never reach a look-alike path on Docker Hub', async (t) => {
  // `evilcorp/ghcr.io` is a Docker Hub repository, not ghcr.io.
  t.equal(registryOf('evilcorp/ghcr.io'), 'docker.io');
  t.equal(registryOf('ghcr/io/x'), 'docker.io');
  t.equal(registryOf(withExplicitTag('ghcr.io/o/x')), 'ghcr.io', 'tagging does not change the registry');
});
