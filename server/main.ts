/**
 * The process: read configuration, make sure a Docker engine answers (provisioning
 * one where this machine allows it), listen, and close gracefully on signals.
 */
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { ensureEngine } from './engine-provisioner.js';
import { startupLine } from './startup-line.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  // A bad setting is the operator's to fix: say which, without a stack trace.
  console.error(`slipway: ${(err as Error).message}`);
  process.exit(1);
}
const log = pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
for (const warning of config.warnings) log.warn(warning);

if (config.docker.socketPath) {
  try {
    await ensureEngine({ socketPath: config.docker.socketPath, log, allowProvision: config.provisionEngine });
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(1);
  }
}

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp(config, { logger: log });
} catch (err) {
  // A data directory that cannot be written, and the like: one line, no stack trace.
  console.error(`slipway: cannot start: ${(err as Error).message}`);
  process.exit(1);
}

closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'closing after an error');
  else log.info({ signal }, 'closing');
  await app.close();
});

let address: string;
try {
  address = await app.listen({ host: config.host, port: config.port });
} catch (err) {
  console.error(`slipway: cannot listen on ${config.host}:${config.port} (HOST, PORT): ${(err as Error).message}`);
  process.exit(1);
}
const engine = await app.slipway.engineVersion().catch((err: Error) => err);
log.info({ address, backend: config.backend, instance: config.instance, dataDir: config.dataDir }, startupLine(config, address, engine));
