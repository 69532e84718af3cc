/**
 * What the Swarm backend relies on but cannot set per service, checked where the manager
 * shows it (/readyz `details`, and a warning in the log at start-up):
 * - the engine is an active Swarm manager, with its nodes Ready;
 * - `"bridge": "none"`: visible on the manager (no network named `bridge`), not on workers;
 * - `"no-new-privileges": true`: not visible through the Engine API on any node (neither
 *   `docker info` nor the node descriptions carry it), so it is stated as unverified.
 */
import { SlipwayError } from '../errors.js';
import type { SwarmClient } from './swarm-client.js';

export interface DaemonReport {
  details: Record<string, string>;
  /** Settings found wrong: logged as warnings. */
  problems: string[];
}

/** Throws SLIPWAY_ERR_ENGINE_UNAVAILABLE unless the engine is an active Swarm manager. */
export async function requireManager(client: SwarmClient): Promise<void> {
  const info = await client.info();
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
    throw new SlipwayError('SLIPWAY_ERR_ENGINE_UNAVAILABLE', `the engine is not a Swarm manager (swarm state: ${info.Swarm?.LocalNodeState ?? 'unknown'})`);
  }
}

export async function checkDaemon(client: SwarmClient): Promise<DaemonReport> {
  const [info, nodes, bridges] = await Promise.all([client.info(), client.listNodes(), client.networksNamed('bridge')]);
  const problems: string[] = [];
  const ready = nodes.filter((n) => n.Status?.State === 'ready').length;
  const defaultBridge = bridges.some((n) => n.Name === 'bridge');
  if (defaultBridge) problems.push('the manager has a default bridge network: set "bridge": "none" in every node\'s daemon.json, or runs may get a network');
  const security = (info.SecurityOptions ?? []).map((o) => /name=([^,]+)/.exec(o)?.[1] ?? o);
  return {
    details: {
      backend: 'swarm',
      swarm: `manager of ${nodes.length} node(s), ${ready} ready`,
      bridge: defaultBridge ? 'WARNING: the manager has a default bridge ("bridge": "none" expected on every node)' : 'none on the manager (not visible for workers: set "bridge": "none" on every node)',
      'no-new-privileges': 'not visible through the Engine API: every node\'s daemon.json must set "no-new-privileges": true (Swarm services have no per-service field for it)',
      security_options: security.join(', ') || 'none reported',
    },
    problems,
  };
}
