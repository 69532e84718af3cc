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
    'The containers this server created that still exist (runs under way, usually): id, name, image, state, status, creation time, ' +
    'labels and `run_id`. Filter with `state` (e.g. `running`); `all_engine: true` lists every container on the engine, only where the ' +
    'server allows it. Read-only. Use it to find a container for stop_container.',
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
    'Stop a container this server created: SIGTERM, then SIGKILL after `timeout` seconds (default 10); the container is removed and ' +
    'the run it belonged to ends `cancelled`. `container_id` is an id (full or short) or a name from list_running_containers; ' +
    'containers the server did not create are not found. Stopping one that already ended is not an error (`was_running: false`).',
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
    'Pull an image into the engine so later runs start without waiting for it (runs pull missing images themselves, so this is optional). ' +
    '`image` is a reference like `python:3.12-slim`; without a tag, `latest` is pulled. Registry credentials come from the server ' +
    'configuration only. Takes seconds to minutes; progress follows the layers.',
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
