/**
 * The one place a backend is chosen (SLIPWAY_BACKEND, read by server/config.ts).
 * Adding a backend: a folder implementing ContainerRuntime, and one line in BACKENDS.
 */
import type { Logger } from 'pino';
import { DockerRuntime, type DockerConnection } from '../docker/docker-runtime.js';
import { invalidInput } from '../errors.js';
import { SwarmRuntime } from '../swarm/swarm-runtime.js';
import type { Metrics } from '../metrics.js';
import type { ContainerRuntime } from './container-runtime.js';

export interface RuntimeSettings {
  backend: string;
  /** How to reach a Docker-API engine (Docker, or Podman's compatible service). */
  docker: DockerConnection;
  /** Output kept per stream, output after which a run is stopped, and SIGTERM-to-SIGKILL grace. */
  outputCapBytes: number;
  outputLimitBytes: number;
  stopGraceSeconds: number;
  /** Where engine call latencies and failures are counted (lib/metrics.ts). */
  metrics?: Metrics | undefined;
}

const BACKENDS: Record<string, (settings: RuntimeSettings, log: Logger) => ContainerRuntime> = {
  docker: (s, log) => new DockerRuntime(s.docker, s, log, s.metrics),
  // DOCKER_HOST names a Swarm manager.
  swarm: (s, log) => new SwarmRuntime(s.docker, s, log),
};

export const BACKEND_NAMES = Object.keys(BACKENDS);

export function createRuntime(settings: RuntimeSettings, log: Logger): ContainerRuntime {
  const make = BACKENDS[settings.backend];
  if (!make) throw invalidInput('SLIPWAY_BACKEND', `SLIPWAY_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, not ${settings.backend}`);
  return make(settings, log);
}
