// The library's settings, taken from the configuration read once at start: the
// gateway (server/app.ts) and the fake-runtime tests build their Slipway from here.
import type { SlipwaySettings } from '../lib/slipway.js';
import { serverPolicy } from './plugins/auth.js';
import type { Config } from './config.js';

export function slipwaySettings(config: Config): SlipwaySettings {
  return {
    instance: config.instance,
    dataDir: config.dataDir,
    outputCapBytes: config.outputCapBytes,
    runs: config.runs,
    sandboxes: config.sandboxes,
    pool: config.pool,
    payloadWorkspace: config.payloadWorkspace,
    outputLimitBytes: config.outputLimitBytes,
    repoBuild: config.repoBuild,
    policy: serverPolicy(config),
    payloadUser: config.payloadUser,
    languagePresets: config.languagePresets,
    registryAuth: config.registryAuth,
    registryAllowedHosts: config.registryAllowedHosts,
  };
}
