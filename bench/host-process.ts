import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The reference host as a separate process, in production mode, on a free port: the load generator and the server
 * never share a process (nor an event loop).
 */
export interface HostProcess {
  baseUrl: string;
  pid: number;
  /** Highest VmHWM (peak resident set) seen so far, in bytes. */
  peakRss(): number;
  /** Current VmRSS in bytes. */
  rss(): number;
  /** CPU time the host process used so far (user + system), in milliseconds. */
  cpuMs(): number;
  /** Whether the process is still running (it may crash under load). */
  alive(): boolean;
  stop(): Promise<void>;
}

/** `npm run build` (tsc into dist/): the host then runs compiled. Returns false (with tsc's output) when it fails. */
export function buildHost(): { ok: boolean; output: string } {
  const root = path.resolve(__dirname, '..');
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime from /proc/<pid>/stat, in clock ticks of 10 ms (Linux's USER_HZ). */
function readCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function readStatus(pid: number): { hwm: number; rss: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return null;
  }
}

export async function startHost(options: { databaseUrl: string; env?: Record<string, string>; logFile: string; compiled: boolean }): Promise<HostProcess> {
  const root = path.resolve(__dirname, '..');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(options.logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    LOG_LEVEL: process.env.BENCH_HOST_LOG_LEVEL || 'warn',
    DEMO_DATA: '0',
    SMTP_CATCHER_PORT: '0',
    // Thousands of requests per minute from a few accounts are the point here, not abuse.
    MUTATION_RATE_LIMIT: '100000000',
    ...options.env,
  };
  // The compiled build (dist/, as `npm run build` makes it) run by plain node, as in production; else the sources
  // through `node --import tsx` (not the tsx CLI, which would add a parent process: the pid sampled is the server's).
  // BENCH_HOST_NODE_ARGS: extra node flags for the host only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extraArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = options.compiled ? [path.join(root, 'dist/src/devhost/main.js')] : ['--import', 'tsx', path.join(root, 'src/devhost/main.ts')];
  const child: ChildProcess = spawn(process.execPath, [...extraArgs, ...entry], {
    cwd: root,
    env,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  let peak = 0;
  const sample = () => {
    const status = readStatus(child.pid!);
    if (status) peak = Math.max(peak, status.hwm);
  };
  const sampler = setInterval(sample, 250);
  sampler.unref();

  const deadline = Date.now() + 300_000;
  for (;;) {
    if (exited !== undefined) {
      clearInterval(sampler);
      throw new Error(`the reference host exited with code ${exited} during start-up; see ${options.logFile}`);
    }
    try {
      const res = await fetch(`${baseUrl}/reservations/api/v1/session`, { headers: { accept: 'application/json' } });
      if (res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the reference host did not answer within 5 minutes; see ${options.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    pid: child.pid!,
    peakRss: () => {
      sample();
      return peak;
    },
    rss: () => readStatus(child.pid!)?.rss ?? 0,
    cpuMs: () => readCpuMs(child.pid!),
    alive: () => exited === undefined,
    async stop() {
      sample();
      clearInterval(sampler);
      if (exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
