/** The operations on Slipway's containers and the engine's images: list, stop, pull. */
import { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';
import { PullImageInput, PullImageResult } from '../schemas/images.js';
import { listText, pullText, stopText } from '../server/mcp/result-text.js';
import { operation } from './operation.js';

export const listContainers = operation({
  name: 'list_containers',
  tool: 'list_running_containers',
  title: 'List containers',
  tag: 'containers',
  description: () =>
    'The containers this server created that still exist (runs under way, usually), with their `run_id`. Filter with `state`; ' +
    '`all_engine: true` lists every container on the engine, only where the server allows it. Read-only.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/containers', rest: 'query' },
  input: ListContainersInput,
  output: ListContainersResult,
  answer: 'Slipway\'s containers.',
  errors: [502],
  hints: () => ({ readOnly: true, openWorld: false }),
  reply: 'json',
  text: listText,
  call: (input, { slipway, caller }) => slipway.listContainers(input, caller),
});

export const stopContainer = operation({
  name: 'stop_container',
  tool: 'stop_container',
  title: 'Stop a container',
  tag: 'containers',
  description: () =>
    'Stop a container this server created (id, short id or name from list_running_containers, or its run\'s id): SIGTERM, then SIGKILL ' +
    'after `timeout` seconds; it is removed and its run ends `cancelled`. One that already ended is not an error (`was_running: false`).',
  scope: 'run',
  rest: { method: 'POST', path: '/v1/containers/:container_id/stop', params: ['container_id'], rest: 'body' },
  input: StopContainerInput,
  output: StopContainerResult,
  answer: 'The container was stopped (or had already ended) and is removed.',
  errors: [404, 502],
  hints: () => ({ readOnly: false, destructive: true, idempotent: true, openWorld: false }),
  reply: 'json',
  text: stopText,
  call: (input, { slipway, caller }) => slipway.stopContainer(input, caller),
});

export const pullImage = operation({
  name: 'pull_image',
  tool: 'pull_docker_image',
  title: 'Pull an image',
  tag: 'images',
  description: () =>
    'Pull an image into the engine so later runs start without waiting (runs pull missing images themselves). Without a tag, ' +
    '`latest` is pulled; registry credentials are the server\'s. Takes seconds to minutes; progress follows the layers.',
  scope: 'pull',
  rest: { method: 'POST', path: '/v1/images/pull', rest: 'body' },
  input: PullImageInput,
  output: PullImageResult,
  answer: 'The image is in the engine.',
  errors: [404, 502],
  hints: () => ({ readOnly: false, destructive: false, idempotent: true, openWorld: true }),
  reply: 'json',
  text: pullText,
  call: (input, { slipway, caller, signal, onEvent }) => slipway.pullImage(input, { caller, signal, onProgress: (progress) => onEvent({ type: 'pull', progress }) }),
});
