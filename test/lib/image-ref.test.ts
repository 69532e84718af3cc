import t from 'tap';
import { explainImageReference } from '../../lib/image-ref.js';

t.test('each kind of bad image reference is named', async (t) => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    [`a/${'b'.repeat(260)}`, /262 characters long, more than 255/],
    ['busybox;rm -rf /', /shell characters/],
    ['busybox:1.36 ', /spaces/],
    ['Python:3.12', /repository "Python" must be lower-case/],
    ['registry.example.com/Team/tool', /repository "Team" must be lower-case/],
    ['python:3.12+slim', /tag "3\.12\+slim"/],
    ['python:.hidden', /must not start with \. or -/],
    [`python:${'t'.repeat(129)}`, /tag is 129 characters long/],
    ['python@sha256:xyz', /digest "sha256:xyz"/],
    ['a@b@c', /more than one @/],
    ['team//tool', /empty path component/],
    ['team/-tool', /repository "-tool" may hold/],
    ['bad_host.example.com:99999999/x', /registry "bad_host\.example\.com:99999999"/],
  ];
  for (const [ref, reason] of cases) t.match(explainImageReference(ref), reason, JSON.stringify(ref));
});
