// One run: its record, a cancel button while it goes on, and its log followed live
// over SSE (stdout and stderr told apart) to the end, resuming after a dropped
// connection exactly after the last event shown.
import { api, authHeaders } from '../api.js';
import { badge, bytes, duration, fill, h, when } from '../dom.js';
import { followEventStream } from '../sse.js';

const FINAL = ['succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'];

/** CPU time and peak memory, or why they are not known (nothing while the run goes on). */
function usage(run) {
  if (run.resource_usage) return `${run.resource_usage.cpu_seconds} s of CPU, memory peak ${bytes(run.resource_usage.memory_peak_bytes)}`;
  return run.resource_usage_unavailable ? `unknown: ${run.resource_usage_unavailable}` : '';
}

function facts(run) {
  const rows = [
    ['Status', badge(run.status)],
    ['Kind', run.kind],
    ['Image', h('span', { class: 'mono' }, run.image)],
    ['Created', when(run.created_at)],
    ['Started', when(run.started_at)],
    ['Finished', when(run.finished_at)],
    ['Exit code', run.exit_code ?? ''],
    ['Took', run.finished_at ? duration(run.execution_time) : ''],
    ['Container', h('span', { class: 'mono' }, run.container_id ?? '')],
    ['Used', usage(run)],
    ['Error', run.error_message ?? ''],
  ];
  return h('dl', { class: 'facts' }, rows.filter(([, v]) => v !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A log event as a line of the log pane, or undefined for events shown elsewhere. */
function logLine(event) {
  const { type, data } = event;
  if (type === 'stdout' || type === 'stderr' || type === 'build') return h('span', { class: `line ${type}`, 'data-event-id': event.id }, String(data));
  const meta = (text) => h('span', { class: 'line meta', 'data-event-id': event.id }, `— ${text}\n`);
  if (type === 'status') return meta(`status: ${data.status}`);
  if (type === 'truncated') return meta('the kept log reached its cap: later output is not kept');
  if (type === 'gap') return meta('output was lost here while the gateway was down');
  if (type === 'end') return meta(`ended: ${data.status}`);
  return undefined;
}

export function mount(main, { id }) {
  const controller = new AbortController();
  const record = h('div');
  const actions = h('div', { class: 'actions' });
  const streamState = h('span', { class: 'muted stream-state', role: 'status' });
  const pull = h('p', { class: 'muted pull' });
  const log = h('pre', { class: 'log', 'aria-live': 'polite' });
  fill(main, h('h1', {}, 'Run ', h('span', { class: 'mono' }, id)), record, actions, h('h2', {}, 'Log ', streamState), pull, log);

  const showRecord = async () => {
    try {
      const run = await api('GET', `/v1/runs/${id}`);
      fill(record, facts(run));
      fill(actions, FINAL.includes(run.status) ? null : h('button', { class: 'danger', onclick: cancel }, 'Cancel run'));
    } catch (err) {
      fill(record, h('p', { class: 'error' }, `Could not load the run: ${err.message}`));
    }
  };
  async function cancel(event) {
    if (!window.confirm('Cancel this run? Its container is stopped and removed.')) return;
    event.target.disabled = true;
    try {
      await api('DELETE', `/v1/runs/${id}`);
    } catch (err) {
      fill(actions, h('p', { class: 'error' }, `Could not cancel: ${err.message}`));
    }
    await showRecord();
  }

  void showRecord();
  void followEventStream(`/v1/runs/${id}/logs`, {
    headers: authHeaders,
    signal: controller.signal,
    onState: (state, err) => {
      const text = { connecting: 'connecting…', open: 'following', reconnecting: 'connection lost, resuming…', ended: 'complete', failed: `stopped: ${err?.message}` }[state];
      fill(streamState, text);
      streamState.dataset.state = state;
    },
    onEvent: (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === 'pull') {
        const p = event.data ?? {};
        fill(pull, `Pulling ${p.status ?? ''} ${p.id ?? ''} ${p.progress ?? ''}`);
        return;
      }
      // Following the end only while the reader is there already: scrolled up, the log stays put.
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      const line = logLine(event);
      if (line) log.append(line);
      if (atBottom) log.scrollTop = log.scrollHeight;
      if (event.type === 'status' || event.type === 'end') void showRecord();
    },
  });
  return () => controller.abort();
}
