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
    // A Swarm manager is the operator's to run: a local engine started here would be no manager.
    await ensureEngine({ socketPath: config.docker.socketPath, log, allowProvision: config.provisionEngine && config.backend !== 'swarm' });
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

const { close } = closeWithGrace({ delay: 15_000, skip: ['SIGINT', 'SIGTERM'] }, async ({ err }) => {
  if (err) log.error({ err }, 'closing after an error');
  await app.close();
});
// SIGINT and SIGTERM are handled here rather than by closeWithGrace: Ctrl-C under
// `npm start` arrives twice at once (from the terminal to the whole process group, and
// forwarded by npm), and closeWithGrace takes any second signal as "exit now". A repeat
// within ECHO_MS is that echo; a later one is an impatient operator, and exits at once.
const ECHO_MS = 1000;
let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      log.info({ signal }, 'closing');
      void close();
    } else if (Date.now() - firstSignalAt > ECHO_MS) {
      log.error({ signal }, 'second signal while closing, exiting now');
      process.exit(1);
    }
  });
}

let address: string;
try {
  address = await app.listen({ host: config.host, port: config.port });
} catch (err) {
  console.error(`slipway: cannot listen on ${config.host}:${config.port} (HOST, PORT): ${(err as Error).message}`);
  process.exit(1);
}
const engine = await app.slipway.engineVersion().catch((err: Error) => err);
log.info({ address, backend: config.backend, instance: config.instance, dataDir: config.dataDir }, startupLine(config, address, engine));
