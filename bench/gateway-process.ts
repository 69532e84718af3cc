// The real gateway as a child process (`node dist/server/main.js`), the way it runs in
// production: its own event loop, its own heap, reached over loopback HTTP.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GatewayProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The last lines the gateway wrote (stdout and stderr), for error reports. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<string>;
}

/** A port the kernel says is free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Starts `node dist/server/main.js` with `env` added to this process's environment, and waits for /readyz. */
export async function startGatewayProcess(root: string, env: Record<string, string>, readyTimeoutMs = 30_000): Promise<GatewayProcess> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, [join(root, 'dist', 'server', 'main.js')], {
    cwd: root,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve(exit);
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const gateway: GatewayProcess = {
    url,
    pid: child.pid!,
    child,
    output: () => tail,
    async stop(graceMs = 20_000) {
      if (exit !== undefined) return `already exited (${exit})`;
      child.kill('SIGTERM');
      const timer = sleep(graceMs).then(() => undefined);
      const how = await Promise.race([exited, timer]);
      if (how !== undefined) return how;
      child.kill('SIGKILL');
      return `did not exit ${graceMs / 1000} s after SIGTERM; killed (${await exited})`;
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && exit === undefined) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return gateway;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  await gateway.stop(2000);
  throw new Error(`the gateway did not become ready at ${url}/readyz (${exit ? `exited with ${exit}` : 'timed out'}):\n${tail}`);
}

/** Resident set size of a process in KiB, from /proc/<pid>/status (VmRSS). */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
