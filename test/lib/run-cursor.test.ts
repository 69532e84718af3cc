// The keyset cursor of list_runs (lib/run-cursor.ts): what it encodes comes back, and
// anything a caller made up is refused naming the field, never passed to the store.
import t from 'tap';
import { decodeRunCursor, encodeRunCursor } from '../../lib/run-cursor.js';

t.test('a cursor decodes to the creation time and id it was made from', async (t) => {
  const cursor = { created_at: '2026-01-02T00:00:00.000Z', id: '0b9c6c1e-5a6f-4d8e-9f3a-2c1d4e5f6a7b' };
  const text = encodeRunCursor(cursor);
  t.match(text, /^[A-Za-z0-9_-]+$/, 'safe in a query string without escaping');
  t.strictSame(decodeRunCursor(text), cursor);
});

t.test('a cursor carries only the key, whatever else its source object held', async (t) => {
  const text = encodeRunCursor({ created_at: 'a', id: 'b', owner: 'alice' } as { created_at: string; id: string });
  t.strictSame(JSON.parse(Buffer.from(text, 'base64url').toString()), { created_at: 'a', id: 'b' });
});

t.test('a cursor this server did not give is refused as bad input naming the cursor', async (t) => {
  const made = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const text of ['not-a-cursor', '', made(null), made(42), made({ created_at: 1, id: 'x' }), made({ created_at: 'x' }), made(['x', 'y'])]) {
    t.throws(() => decodeRunCursor(text), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'cursor', message: 'cursor is not one this server gave' }, JSON.stringify(text));
  }
});
