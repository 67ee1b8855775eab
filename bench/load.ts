/**
 * The load generator, as the orchestrator sees it: worker processes (load-worker.ts) that each hold a share of the
 * sockets and of the send rate, driven over IPC. Latencies travel back raw so percentiles are taken over every
 * delivery of the run, not averaged across workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** One socket: whose token it carries and which group it joins (none: it stays idle). */
export interface SocketPlan {
  token: string;
  groupId?: string;
}

export type WorkerCommand =
  | { cmd: 'open'; wsUrl: string; sockets: SocketPlan[] }
  | { cmd: 'run'; phase: number; rate: number; durationMs: number; drainMs: number; contentChars: number }
  | { cmd: 'close' };

export interface PhaseCounts {
  sent: number;
  /** Sends the server answered with an error frame. */
  refused: number;
  expected: number;
  delivered: number;
  lost: number;
  /** Deliveries that came after a later send of the same sender (duplicates included). */
  reordered: number;
  deliveredBytes: number;
  /** From the first send to the last delivery. */
  windowMs: number;
}

export interface PhaseResult extends PhaseCounts {
  latenciesMs: number[];
}

export type WorkerReply = { kind: 'opened' } | { kind: 'ran'; result: PhaseResult } | { kind: 'closed' } | { kind: 'failed'; error: string };

export interface LoadGenerator {
  /** Runs one phase on every worker at once; `rate` is the total sends per second. */
  run(phase: Omit<Extract<WorkerCommand, { cmd: 'run' }>, 'cmd'>): Promise<PhaseResult>;
  close(): Promise<void>;
}

const OPEN_TIMEOUT_MS = 120_000;

function ask(child: ChildProcess, command: WorkerCommand, timeoutMs: number): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`load worker did not answer ${command.cmd} within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (reply: WorkerReply) => {
      clearTimeout(timer);
      if (reply.kind === 'failed') reject(new Error(`load worker: ${reply.error}`));
      else resolve(reply);
    });
    child.send(command);
  });
}

/** Sockets are dealt to workers group by group, so every group's senders and receivers share one worker's clock. */
export async function startLoad(wsUrl: string, sockets: SocketPlan[], workers: number): Promise<LoadGenerator> {
  const shares: SocketPlan[][] = Array.from({ length: workers }, () => []);
  const groups = [...new Set(sockets.map((s) => s.groupId))];
  for (const [i, socket] of sockets.entries()) {
    shares[socket.groupId === undefined ? i % workers : groups.indexOf(socket.groupId) % workers]!.push(socket);
  }
  const children = shares.map(() => fork('bench/load-worker.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    await Promise.all(children.map((child, i) => ask(child, { cmd: 'open', wsUrl, sockets: shares[i]! }, OPEN_TIMEOUT_MS)));
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  return {
    async run(phase) {
      const timeoutMs = phase.durationMs + phase.drainMs + 30_000;
      const replies = await Promise.all(children.map((child) => ask(child, { cmd: 'run', ...phase, rate: phase.rate / workers }, timeoutMs)));
      return mergeResults(replies.map((r) => (r as Extract<WorkerReply, { kind: 'ran' }>).result));
    },
    async close() {
      await Promise.all(
        children.map(async (child) => {
          const exited = once(child, 'exit');
          await ask(child, { cmd: 'close' }, 30_000).catch(() => child.kill());
          await exited;
        }),
      );
    },
  };
}

function mergeResults(results: PhaseResult[]): PhaseResult {
  const sum = (key: keyof PhaseCounts) => results.reduce((total, r) => total + r[key], 0);
  return {
    sent: sum('sent'),
    refused: sum('refused'),
    expected: sum('expected'),
    delivered: sum('delivered'),
    lost: sum('lost'),
    reordered: sum('reordered'),
    deliveredBytes: sum('deliveredBytes'),
    windowMs: Math.max(...results.map((r) => r.windowMs)),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
  };
}
