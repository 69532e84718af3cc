// tools/list names two shared grammars (`format: image-reference`, `format: sandbox-id`)
// instead of spelling their expressions; the server's validator must read the name
// exactly as the expression, or the advertised schema would promise something else.
import t from 'tap';
import { NAMED_PATTERNS } from '../../schemas/named-formats.js';
import { ajv, queryAjv } from '../../schemas/validator.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const SAMPLES = [
  'python', 'python:3.12-slim', 'registry.example.com/team/tool:1.2', 'Registry.Example.COM/tool', 'localhost/app', 'localhost:5000/app:v1',
  'myhost:5000/app', 'myhost/app', `python@${DIGEST}`, 'a.b_c__d-e--f/x', '', 'Python', 'team/Tool', 'python;id', 'a b', 'a//b', 'a:', '-v',
  'UPPER.example.com:99999/x', 'host:123456/x', '3f2b8c1e-5d4a-4e2f-9b6c-7a1d0e9f8c2b', '3F2B8C1E-5D4A-4E2F-9B6C-7A1D0E9F8C2B',
  '3f2b8c1e5d4a4e2f9b6c7a1d0e9f8c2b', '3f2b8c1e-5d4a-4e2f-9b6c-7a1d0e9f8c2b\n', 'urn:uuid:3f2b8c1e-5d4a-4e2f-9b6c-7a1d0e9f8c2b',
];

t.test('each named format accepts and refuses exactly what its expression does, on both validators', async (t) => {
  for (const [name, pattern] of Object.entries(NAMED_PATTERNS)) {
    for (const instance of [ajv, queryAjv]) {
      const byName = instance.compile({ type: 'string', format: name });
      const byPattern = instance.compile({ type: 'string', pattern });
      const accepted = SAMPLES.filter((s) => byPattern(s));
      t.ok(accepted.length > 0 && accepted.length < SAMPLES.length, `${name}: the samples hold both answers`);
      for (const sample of SAMPLES) t.equal(byName(sample), byPattern(sample), `${name}: ${JSON.stringify(sample)}`);
    }
  }
});
