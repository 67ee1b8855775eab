/**
 * The processes under measurement: the chat server (`mirror-chat serve` from source, as the end-to-end tests start
 * it) on throw-away backends, and the bare-ws baseline. CPU and RSS come from /proc, so the figures are the
 * server process's own and not the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import type { Profile } from '../test/support/backends.js';
import { freshBackends, type TestBackends } from '../test/support/server.js';
import { spawnServer, type ServerProcess } from '../test/support/server-process.js';

export interface ChatServer {
  process: ServerProcess;
  pid: number;
  /** Stops the server (SIGTERM, so it shuts down as an operator's would). */
  stop(): Promise<void>;
}

export interface Baseline {
  url: string;
  wsUrl: string;
  pid: number;
  stop(): Promise<void>;
}

/** Fresh databases (and a fresh Redis prefix) for one scenario; `drop` also removes the prefix's Redis keys. */
export async function benchBackends(profile: Profile): Promise<TestBackends> {
  const backends = await freshBackends(profile);
  // A prefix of its own, so what a run leaves behind in Redis is told apart from what test runs leave.
  if (backends.env.REDIS_URL) backends.env.REDIS_PREFIX = `mirror-bench-${randomBytes(6).toString('hex')}:`;
  return {
    ...backends,
    async drop() {
      await backends.drop();
      if (!backends.env.REDIS_URL) return;
      const redis = new Redis(backends.env.REDIS_URL);
      try {
        const keys = await redis.keys(`${backends.env.REDIS_PREFIX}*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

const SERVER_START_TIMEOUT_MS = 60_000;

/** Set by `--cpu-prof`: each chat server writes a V8 CPU profile into this folder when it stops. */
export const CPU_PROFILE_DIR_ENV = 'MIRROR_BENCH_CPU_PROFILE_DIR';

export async function startChatServer(backends: TestBackends): Promise<ChatServer> {
  const profileDir = process.env[CPU_PROFILE_DIR_ENV];
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = await spawnServer(backends.env, SERVER_START_TIMEOUT_MS, nodeArgs);
  return { process: server, pid: server.child.pid!, stop: () => stopChild(server.child) };
}

export async function startBaseline(): Promise<Baseline> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { url } = JSON.parse(line) as { url: string };
  return { url, wsUrl: url.replace(/^http/, 'ws'), pid: child.pid!, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const CLOCK_TICKS_PER_SECOND = 100;

/** user + system CPU seconds of a process so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

export interface Usage {
  /** Share of one core over the window, in percent. */
  cpuPercent: number;
  rssPeakMb: number;
}

const SAMPLE_MS = 250;

/** Samples a process from now until `stop()`, which answers what it used over the window. */
export async function sampleUsage(pid: number): Promise<{ stop(): Promise<Usage> }> {
  const startedAt = performance.now();
  const cpuAtStart = await cpuSeconds(pid);
  let peak = await rssBytes(pid);
  const timer = setInterval(() => void rssBytes(pid).then((rss) => (peak = Math.max(peak, rss)), () => {}), SAMPLE_MS);
  return {
    async stop() {
      clearInterval(timer);
      const [cpu, rss] = await Promise.all([cpuSeconds(pid), rssBytes(pid)]);
      const seconds = (performance.now() - startedAt) / 1000;
      const mb = (bytes: number) => bytes / 2 ** 20;
      return { cpuPercent: ((cpu - cpuAtStart) / seconds) * 100, rssPeakMb: mb(Math.max(peak, rss)) };
    },
  };
}
