/**
 * A live sandbox's CPU and memory for get_sandbox. The cost is bounded: measured only on
 * a get (never for a list), and one reading per container serves every get for
 * `maxAgeMs` (a dashboard refreshing several pages, or many callers, cost the engine at
 * most one stats call per sandbox per window); gets arriving while a reading is under
 * way share it.
 */
import type { Logger } from 'pino';
import type { ContainerRuntime, LiveUsageReading } from '../runtime/container-runtime.js';
import type { SandboxUsage } from '../../schemas/sandboxes.js';

/** How long one reading answers gets: fresh enough to watch memory grow, few enough engine calls. */
export const USAGE_MAX_AGE_MS = 2000;

export interface UsageFields {
  usage: SandboxUsage | null;
  usage_unavailable: string | null;
}

export class SandboxUsageReader {
  private readonly readings = new Map<string, { at: number; reading: Promise<UsageFields> }>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly log: Logger,
    private readonly maxAgeMs = USAGE_MAX_AGE_MS,
  ) {}

  read(containerId: string | null): Promise<UsageFields> {
    if (!containerId) return Promise.resolve({ usage: null, usage_unavailable: 'the sandbox has no container yet' });
    const now = Date.now();
    for (const [id, kept] of this.readings) if (now - kept.at > this.maxAgeMs) this.readings.delete(id);
    const kept = this.readings.get(containerId);
    if (kept) return kept.reading;
    const reading = this.measure(containerId);
    this.readings.set(containerId, { at: now, reading });
    return reading;
  }

  private async measure(containerId: string): Promise<UsageFields> {
    if (!this.runtime.usage) return { usage: null, usage_unavailable: `the ${this.runtime.backend} backend does not report a live container's usage` };
    let answer: LiveUsageReading;
    try {
      answer = await this.runtime.usage(containerId);
    } catch (err) {
      // Not kept: the next get asks again rather than repeating a failure for the whole window.
      this.readings.delete(containerId);
      this.log.warn({ container: containerId, err: String(err) }, 'sandbox usage not read');
      return { usage: null, usage_unavailable: 'the engine did not answer for the container\'s usage' };
    }
    if (!answer.usage) return { usage: null, usage_unavailable: answer.unavailable };
    const u = answer.usage;
    return {
      usage: { cpu_seconds: u.cpuSeconds, memory_bytes: u.memoryBytes, memory_peak_bytes: u.memoryPeakBytes, sampled_at: u.sampledAt.toISOString() },
      usage_unavailable: null,
    };
  }
}
