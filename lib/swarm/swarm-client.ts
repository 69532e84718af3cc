/**
 * The Swarm manager's Engine API, one call a method. It extends the Docker backend's
 * client (ping, version, image inspect and pull are the same calls on a manager) and adds
 * services, tasks, service logs, configs, nodes and the daemon's info, each logged and
 * mapped into the catalogue the same way. Nothing past lib/swarm/ sees dockerode.
 */
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { SlipwayError } from '../errors.js';
import { DockerClient } from '../docker/docker-client.js';

export type ServiceSpec = Docker.CreateServiceOptions;

/** The fields of a task this backend reads (Engine API 1.41 `GET /tasks`). */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status: {
    Timestamp?: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

export interface SwarmService {
  ID: string;
  CreatedAt?: string;
  Spec: ServiceSpec & { Labels?: Record<string, string> };
}

export interface SwarmConfig {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

export class SwarmClient extends DockerClient {
  async info(): Promise<{ SecurityOptions?: string[]; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Nodes?: number }; ServerVersion?: string }> {
    return this.call('info', {}, () => this.engine.info());
  }

  async listNodes(): Promise<Array<{ ID: string; Status?: { State?: string }; Description?: { Hostname?: string } }>> {
    return this.call('node list', {}, () => this.engine.listNodes());
  }

  /** Networks on the manager named `name` (to see whether the default bridge exists). */
  async networksNamed(name: string): Promise<Array<{ Name: string; Driver?: string }>> {
    return this.call('network list', { name }, () => this.engine.listNetworks({ filters: { name: [name] } }));
  }

  async createService(spec: ServiceSpec): Promise<string> {
    const service = await this.call('service create', { name: spec.Name }, () => this.engine.createService(spec), 'SLIPWAY_ERR_IMAGE_NOT_FOUND');
    return (service as unknown as { id: string }).id;
  }

  inspectService(id: string): Promise<SwarmService> {
    return this.call('service inspect', { service: id }, () => this.engine.getService(id).inspect() as Promise<SwarmService>, 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
  }

  /** Removes the service (its task's container gets SIGTERM, then SIGKILL after its grace); false when it was already gone. */
  async removeService(id: string): Promise<boolean> {
    try {
      await this.call('service remove', { service: id }, () => this.engine.getService(id).remove(), 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
      return true;
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND') return false;
      throw err;
    }
  }

  listServices(filters: Record<string, string[]>): Promise<SwarmService[]> {
    return this.call('service list', { filters }, () => this.engine.listServices({ filters }) as Promise<SwarmService[]>);
  }

  /** Tasks of the given services (one call for all of them). */
  async tasksOf(serviceIds: string[]): Promise<SwarmTask[]> {
    if (serviceIds.length === 0) return [];
    return this.call('task list', { services: serviceIds.length }, () => this.engine.listTasks({ filters: { service: serviceIds } }) as Promise<SwarmTask[]>);
  }

  /**
   * The service's multiplexed log (stdout and stderr framed as a container's), through the
   * manager: with `follow`, live until the stream is destroyed; without, what the nodes kept.
   */
  async serviceLogs(id: string, options: { follow: boolean }): Promise<NodeJS.ReadableStream> {
    return this.call('service logs', { service: id, follow: options.follow }, async () => {
      const stream = (await this.engine.getService(id).logs({ stdout: true, stderr: true, follow: options.follow as true, details: false })) as unknown;
      // Without `follow`, dockerode answers the whole log as one Buffer.
      return Buffer.isBuffer(stream) ? Readable.from([stream]) : (stream as NodeJS.ReadableStream);
    });
  }

  async createConfig(name: string, labels: Record<string, string>, data: Buffer): Promise<string> {
    const config = await this.call('config create', { config: name }, () => this.engine.createConfig({ Name: name, Labels: labels, Data: data.toString('base64') }));
    return (config as unknown as { id: string }).id;
  }

  /** Removes a config; one already gone is not an error. */
  async removeConfig(id: string): Promise<void> {
    try {
      await this.call('config remove', { config: id }, () => this.engine.getConfig(id).remove(), 'SLIPWAY_ERR_CONTAINER_NOT_FOUND');
    } catch (err) {
      if (!(err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND')) throw err;
    }
  }

  listConfigs(filters: Record<string, string[]>): Promise<SwarmConfig[]> {
    return this.call('config list', { filters }, () => this.engine.listConfigs({ filters }) as Promise<SwarmConfig[]>);
  }
}
