/**
 * Refusing what the configured backend cannot do, before anything is created: an
 * operation asks here first, so a run that needs stdin on a backend without it is a
 * clear 400 naming the field, never a container started and left waiting.
 */
import { SlipwayError } from '../errors.js';
import type { Capability, ContainerRuntime } from './container-runtime.js';

const WHAT: Record<Capability, string> = {
  stdin: 'feeding stdin to a run',
  exec: 'running a command in a live container',
  files: 'copying files into or out of a live container',
  build: 'building images',
  oomDetection: 'telling out-of-memory kills apart',
  watchRemoval: 'watching for removed containers',
  placement: 'placement constraints',
};

export function unsupported(backend: string, capability: Capability, field?: string): SlipwayError {
  return new SlipwayError('SLIPWAY_ERR_UNSUPPORTED', `the ${backend} backend does not support ${WHAT[capability]}`, field === undefined ? {} : { field });
}

/** Throws SLIPWAY_ERR_UNSUPPORTED (naming `field`, when a caller's field asked for it) unless the backend can. */
export function requireCapability(runtime: Pick<ContainerRuntime, 'backend' | 'capabilities'>, capability: Capability, field?: string): void {
  if (!runtime.capabilities[capability]) throw unsupported(runtime.backend, capability, field);
}
