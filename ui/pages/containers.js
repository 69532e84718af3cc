// Slipway's containers, each running one with a stop button.
import { api } from '../api.js';
import { h, shortId, when } from '../dom.js';
import { listPage } from '../list-page.js';

export function mount(main) {
  return listPage(main, {
    title: 'Containers',
    className: 'containers',
    headings: ['Id', 'Name', 'Image', 'State', 'Status', 'Created', 'Run', ''],
    emptyText: 'No containers.',
    load: async () => (await api('GET', '/v1/containers')).containers,
    row: (c, action) =>
      h(
        'tr',
        { 'data-container-id': c.id },
        h('td', { class: 'mono' }, shortId(c.id)),
        h('td', { class: 'mono' }, c.name),
        h('td', { class: 'mono' }, c.image),
        h('td', {}, c.state),
        h('td', {}, c.status),
        h('td', {}, when(c.created)),
        h('td', {}, c.run_id ? h('a', { href: `#/runs/${c.run_id}`, class: 'mono' }, shortId(c.run_id)) : ''),
        h(
          'td',
          {},
          c.state === 'running'
            ? action('Stop', `Stop container ${c.name}? It is removed, and its run ends cancelled.`, () =>
                api('POST', `/v1/containers/${encodeURIComponent(c.id)}/stop`, {}),
              )
            : null,
        ),
      ),
  });
}
