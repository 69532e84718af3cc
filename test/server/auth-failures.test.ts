import t from 'tap';
import { AuthFailureLimiter } from '../../server/auth-failures.js';

t.test('an address is locked out after its failures in a window, until the window ends; others are not', async (t) => {
  const limiter = new AuthFailureLimiter(3, 60_000);
  for (let i = 0; i < 3; i++) {
    t.doesNotThrow(() => limiter.check('10.0.0.1', 1000));
    limiter.fail('10.0.0.1', 1000 + i);
  }
  t.throws(() => limiter.check('10.0.0.1', 2000), { code: 'SLIPWAY_ERR_RATE_LIMITED', statusCode: 429, retryAfterSeconds: 59 });
  t.doesNotThrow(() => limiter.check('10.0.0.2', 2000), 'another address is untouched');
  t.doesNotThrow(() => limiter.check('10.0.0.1', 61_000), 'the window has ended');
  limiter.fail('10.0.0.1', 61_000);
  t.doesNotThrow(() => limiter.check('10.0.0.1', 61_001), 'a new window counts from one');
});
