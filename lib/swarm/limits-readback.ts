/**
 * After a service is created, its spec is read back from the manager and compared with
 * what was asked: an engine that silently dropped a limit (an older API version ignores
 * fields it does not know, such as `Pids` or `CapabilityDrop` before 1.41) must not run
 * the task. Small and Swarm-shaped; a shared read-back for every backend
 * (lib/runtime/limits-check.ts) was being written in parallel and can replace it.
 */
import type { ServiceSpec } from './swarm-client.js';

interface ReadBack {
  TaskTemplate?: {
    ContainerSpec?: { ReadOnly?: boolean; CapabilityDrop?: string[]; Init?: boolean };
    Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number } };
  };
}

/** The settings that differ between `asked` and `stored`, as `name: asked X, engine has Y`. */
export function droppedSettings(asked: ServiceSpec, stored: ServiceSpec): string[] {
  const a = asked as ReadBack;
  const s = stored as ReadBack;
  const pairs: Array<[string, unknown, unknown]> = [
    ['memory', a.TaskTemplate?.Resources?.Limits?.MemoryBytes, s.TaskTemplate?.Resources?.Limits?.MemoryBytes],
    ['cpus (NanoCPUs)', a.TaskTemplate?.Resources?.Limits?.NanoCPUs, s.TaskTemplate?.Resources?.Limits?.NanoCPUs],
    ['pids', a.TaskTemplate?.Resources?.Limits?.Pids, s.TaskTemplate?.Resources?.Limits?.Pids],
    ['read-only root', a.TaskTemplate?.ContainerSpec?.ReadOnly ?? false, s.TaskTemplate?.ContainerSpec?.ReadOnly ?? false],
    ['init', a.TaskTemplate?.ContainerSpec?.Init, s.TaskTemplate?.ContainerSpec?.Init],
    ['capability drop', JSON.stringify(a.TaskTemplate?.ContainerSpec?.CapabilityDrop ?? []), JSON.stringify(s.TaskTemplate?.ContainerSpec?.CapabilityDrop ?? [])],
  ];
  return pairs.filter(([, asked, has]) => asked !== has).map(([name, asked, has]) => `${name}: asked ${String(asked)}, engine has ${String(has ?? 'none')}`);
}
