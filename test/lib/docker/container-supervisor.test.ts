import t from 'tap';
import type { StopReason } from '../../../lib/active-runs.js';
import { finalStatus } from '../../../lib/docker/container-supervisor.js';

t.test('a process that ran to its end: exit code, then the OOM flag', async (t) => {
  t.equal(finalStatus(undefined, false, 0), 'succeeded');
  t.equal(finalStatus(undefined, false, 1), 'failed');
  t.equal(finalStatus(undefined, false, 2), 'failed');
  t.equal(finalStatus(undefined, false, 137), 'failed', 'killed by someone else');
  t.equal(finalStatus(undefined, false, -1), 'failed');
  t.equal(finalStatus(undefined, true, 137), 'oom_killed');
  t.equal(finalStatus(undefined, true, 0), 'oom_killed', 'the OOM flag wins over a clean exit (a child was killed)');
});

t.test('a run Slipway stopped ends as why it was stopped, whatever the exit', async (t) => {
  const cases: [StopReason, string][] = [
    ['timed_out', 'timed_out'],
    ['cancelled', 'cancelled'],
    ['output_limit', 'failed'],
  ];
  for (const [reason, status] of cases) {
    for (const [oom, exit] of [[false, 0], [false, 143], [true, 137], [true, 0]] as const) {
      t.equal(finalStatus(reason, oom, exit), status, `${reason}, oom ${oom}, exit ${exit}`);
    }
  }
});
