/**
 * A run's CPU time and peak memory, from the engine's stats stream. The container's
 * cgroup is gone once it exits, and a one-shot `stats` after the exit answers zeros, so
 * the figures are the last sample taken while it ran. The engine samples about once a
 * second (Docker 20.10's collector, for cgroup v1 and v2 alike): what a run does in its
 * last second is not seen, and a run shorter than a second may have no sample at all.
 * The stream is opened beside the run and never waited for: it adds no round trip to
 * the answer of a short run.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { DockerClient, EngineContainer } from './docker-client.js';
import type { ResourceUsage } from '../../schemas/run-result.js';

/** The fields of a stats sample read here (cgroup v1 gives max_usage; v2 only usage). */
interface StatsSample {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; max_usage?: number };
}

export class UsageSampler {
  private cpuNanoseconds = 0;
  private peakBytes = 0;
  private sampled = false;
  private stream: Readable | undefined;
  private stopped = false;

  /** Starts sampling `container` (already started); failures only mean no figures. */
  constructor(docker: DockerClient, container: EngineContainer, log: Logger) {
    docker.stats(container).then(
      (stream) => {
        this.stream = stream as Readable;
        if (this.stopped) return void this.stream.destroy();
        this.stream.on('error', () => {});
        createInterface({ input: this.stream }).on('line', (line) => this.take(line));
      },
      (err) => log.debug({ container: container.id, err: String(err) }, 'no resource samples for this run'),
    );
  }

  private take(line: string): void {
    let sample: StatsSample;
    try {
      sample = JSON.parse(line) as StatsSample;
    } catch {
      return;
    }
    // After the exit the engine sends empty samples (read 0001-01-01, zeros): not a reading.
    if (!sample.read || sample.read.startsWith('0001')) return;
    const cpu = sample.cpu_stats?.cpu_usage?.total_usage ?? 0;
    const memory = Math.max(sample.memory_stats?.max_usage ?? 0, sample.memory_stats?.usage ?? 0);
    if (cpu === 0 && memory === 0) return;
    this.sampled = true;
    this.cpuNanoseconds = Math.max(this.cpuNanoseconds, cpu);
    this.peakBytes = Math.max(this.peakBytes, memory);
  }

  /** The figures so far; null when the engine sent no sample. */
  usage(): ResourceUsage | null {
    if (!this.sampled) return null;
    return { cpu_seconds: Math.round(this.cpuNanoseconds / 1e6) / 1e3, memory_peak_bytes: this.peakBytes };
  }

  stop(): void {
    this.stopped = true;
    this.stream?.destroy();
  }
}
