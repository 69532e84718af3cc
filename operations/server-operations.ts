/** What the server allows the caller, in one read: its effective policy, the server's bounds, the engine. */
import { ServerInfo, ServerInfoInput } from '../schemas/server-info.js';
import { operation } from './operation.js';

const MIB = 1024 * 1024;

export const getServerInfo = operation({
  name: 'get_server_info',
  tool: 'get_server_info',
  title: 'Describe the server',
  tag: 'server',
  description: () =>
    'The limits and policy this caller\'s runs are held to (its token may lower the server\'s), the server\'s run bounds, and whether ' +
    'the engine answers. Read it before choosing limits or `network_mode`: more than the caps is refused. Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/info', rest: 'query' },
  input: ServerInfoInput,
  output: ServerInfo,
  answer: 'The caller\'s policy, the server\'s bounds and the engine\'s state.',
  errors: [],
  hints: () => ({ readOnly: true, openWorld: false }),
  reply: 'json',
  text: (info) => {
    const { defaults: d, caps: c } = info.policy;
    return (
      `caller ${info.caller.name ?? '(open server)'}; defaults ${Math.round(d.memory_bytes / MIB)}m, ${d.cpus} CPU, ${d.pids_limit} processes, ${d.timeout_seconds} s; ` +
      `caps ${Math.round(c.memory_bytes / MIB)}m, ${c.cpus} CPUs, ${c.pids_limit} processes, ${c.timeout_seconds} s; network ${info.policy.network_modes.join(', ')}; ` +
      `engine ${info.engine.backend} ${info.engine.reachable ? info.engine.version : `unreachable: ${info.engine.error}`}`
    );
  },
  call: (_input, { slipway, caller }) => slipway.serverInfo(caller),
});
