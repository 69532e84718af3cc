/**
 * The library both doors call: one method per operation, taking validated input
 * (schemas/) and returning the result shapes of schemas/. Configuration arrives as
 * plain settings; nothing here knows about HTTP or MCP.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ActiveRuns } from './active-runs.js';
import { toArgv } from './command-line.js';
import type { DockerClient } from './docker-client.js';
import { invalidInput, policyDenied, SlipwayError } from './errors.js';
import { Executor, type RunOptions } from './executor.js';
import { Images, type RegistryAuth } from './images.js';
import { LABEL_INSTANCE, LABEL_MANAGED, LABEL_RUN_ID, ownedFilter, runLabels, type RunKind } from './labels.js';
import { mergePresets, type LanguagePreset } from './language-presets.js';
import { packFiles, prepareFiles } from './payload-files.js';
import { resolveLimits, type RunPolicy } from './policy.js';
import type { ContainerRunInput } from '../schemas/container-run.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';
import type { PullImageInput, PullImageResult } from '../schemas/images.js';
import type { PayloadFile, PayloadRunInput } from '../schemas/payload-run.js';
import type { RunResult } from '../schemas/run-result.js';
import type { PullProgress } from './images.js';

export interface SlipwaySettings {
  instance: string;
  outputCapBytes: number;
  outputLimitBytes: number;
  stopGraceSeconds: number;
  policy: RunPolicy;
  payloadUser: string;
  runtime?: string | undefined;
  manageAllContainers: boolean;
  languagePresets: Record<string, Partial<LanguagePreset>>;
  registryAuth: Record<string, RegistryAuth>;
}

/** Where payload files are placed inside the container. */
export const PAYLOAD_DIR = '/workspace';
const DEFAULT_STOP_GRACE_SECONDS = 10;

export class Slipway {
  readonly activeRuns = new ActiveRuns();
  private readonly executor: Executor;
  private readonly images: Images;
  private readonly presets: Record<string, LanguagePreset>;

  constructor(
    readonly docker: DockerClient,
    private readonly settings: SlipwaySettings,
    private readonly log: Logger,
  ) {
    this.executor = new Executor(docker, this.activeRuns, settings, log);
    this.images = new Images(docker, settings.registryAuth);
    this.presets = mergePresets(settings.languagePresets);
  }

  /** execute_docker_container */
  async runImage(input: ContainerRunInput, options: RunOptions = {}): Promise<RunResult> {
    const limits = resolveLimits(input, this.settings.policy);
    const cmd = toArgv(input.command, 'command');
    const entrypoint = toArgv(input.entrypoint, 'entrypoint');
    const runId = randomUUID();
    await this.ensureImage(input.image, input.pull_policy, options);
    return this.executor.run(
      {
        runId,
        image: input.image,
        cmd,
        entrypoint,
        env: input.environment,
        workingDir: input.working_dir,
        user: input.user,
        labels: this.labels(runId, 'image'),
        limits,
        stdin: input.stdin,
      },
      options,
    );
  }

  /** execute_with_payload */
  async runPayload(input: PayloadRunInput, options: RunOptions = {}): Promise<RunResult> {
    const preset = input.language ? this.presets[input.language] : undefined;
    if (!preset && !input.image) throw invalidInput('language', 'either language or image is required');
    if (!preset && !input.command) throw invalidInput('command', 'command is required when no language is given');
    const image = input.image ?? preset!.image;
    const limits = resolveLimits(input, this.settings.policy);
    const cmd = toArgv(input.command, 'command') ?? preset!.command;
    const files = prepareFiles(this.payloadFiles(input, preset));
    const tar = await packFiles(files);
    const runId = randomUUID();
    await this.ensureImage(image, input.pull_policy, options);
    return this.executor.run(
      {
        runId,
        image,
        cmd,
        env: input.environment,
        workingDir: PAYLOAD_DIR,
        user: this.settings.payloadUser,
        labels: this.labels(runId, 'payload'),
        limits,
        stdin: input.stdin,
        files: { tar, dir: PAYLOAD_DIR },
      },
      options,
    );
  }

  /** list_running_containers */
  async listContainers(input: ListContainersInput): Promise<ListContainersResult> {
    if (input.all_engine && !this.settings.manageAllContainers) {
      throw policyDenied('all_engine', 'listing containers Slipway did not create is not allowed by the server');
    }
    const filters: Record<string, string[]> = input.all_engine ? {} : ownedFilter(this.settings.instance);
    if (input.state) filters.status = [input.state];
    const containers = await this.docker.listContainers(filters);
    return {
      containers: containers.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        state: c.State,
        status: c.Status,
        created: new Date(c.Created * 1000).toISOString(),
        run_id: c.Labels[LABEL_RUN_ID] ?? null,
        labels: c.Labels,
      })),
    };
  }

  /** stop_container: SIGTERM, `timeout` seconds of grace, SIGKILL; the run ends `cancelled`. */
  async stopContainer(input: StopContainerInput): Promise<StopContainerResult> {
    const info = await this.docker.inspect(input.container_id).catch((err: unknown) => {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND') {
        throw new SlipwayError(err.code, `no Slipway container ${input.container_id}`, { field: 'container_id' });
      }
      throw err;
    });
    const labels = info.Config.Labels ?? {};
    const owned = labels[LABEL_MANAGED] === 'true' && labels[LABEL_INSTANCE] === this.settings.instance;
    if (!owned && !this.settings.manageAllContainers) {
      // Not ours: answer as if it did not exist, so callers learn nothing about the host.
      throw new SlipwayError('SLIPWAY_ERR_CONTAINER_NOT_FOUND', `no Slipway container ${input.container_id}`, { field: 'container_id' });
    }
    const grace = input.timeout ?? DEFAULT_STOP_GRACE_SECONDS;
    const wasRunning = info.State.Running;
    const run = this.activeRuns.byContainer(info.Id);
    if (run) await run.stop('cancelled', grace);
    else if (wasRunning) await this.docker.stop(this.docker.container(info.Id), grace);
    return { success: true, container_id: info.Id, was_running: wasRunning, run_id: labels[LABEL_RUN_ID] ?? null };
  }

  /** pull_docker_image */
  async pullImage(input: PullImageInput, onProgress?: (p: PullProgress) => void): Promise<PullImageResult> {
    const result = await this.images.pull(input.image, onProgress);
    return { success: true, ...result };
  }

  /** Called when the gateway closes: runs under way are stopped and their containers removed. */
  shutdown(): Promise<void> {
    return this.executor.shutdown();
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  private labels(runId: string, kind: RunKind): Record<string, string> {
    return runLabels(this.settings.instance, runId, kind);
  }

  private async ensureImage(image: string, policy: ContainerRunInput['pull_policy'], options: RunOptions): Promise<void> {
    let announced = false;
    await this.images.ensure(image, policy ?? 'missing', (progress) => {
      if (!announced) options.onEvent?.({ type: 'status', status: 'pulling' });
      announced = true;
      options.onEvent?.({ type: 'pull', progress });
    });
  }

  /** `files`, plus the original API's single `payload` at `payload_path` (or the preset's file name). */
  private payloadFiles(input: PayloadRunInput, preset: LanguagePreset | undefined): PayloadFile[] {
    const files: PayloadFile[] = [...(input.files ?? [])];
    if (input.payload !== undefined) {
      const path = input.payload_path ?? preset?.file;
      if (!path) throw invalidInput('payload_path', 'payload_path is required when no language is given');
      files.push({ path, content: input.payload });
    } else if (input.payload_path !== undefined) {
      throw invalidInput('payload', 'payload_path was given without payload');
    }
    if (files.length === 0) throw invalidInput('files', 'files or payload is required');
    return files;
  }
}
