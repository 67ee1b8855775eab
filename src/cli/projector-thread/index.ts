/**
 * The projector in a thread of its own, for `serve` when every backend is a server. On the main thread its batches
 * waited behind the gateway's work at each of their statements (the benchmarks measured the projector busy 80% of the
 * time at 500 sends/s, mostly waiting), and every send's delivery waits for its batch. In a thread it has an event
 * loop, and a core, to itself; it reaches the rest of the server only through the backends, as a projector in another
 * process would (broadcasts and checkpoints over the bus). The embedded profile keeps it on the main thread: PGlite
 * and the in-process bus cannot be shared with a thread.
 */
import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Projector } from '../../projections/projector.js';
import type { Config } from '../config.js';

/** What the thread is told: open the backends and project (the server's are open and migrated by then). */
export const OPEN = 'open';
/** What the thread is told: stop (finish the batch in progress, publish it, release the lock). */
export const STOP = 'stop';
/** What the thread tells once its backends are open and its projector is running. */
export const STARTED = 'started';
const RESTART_MS = 1500;

/** Whether the projector can leave the main thread: its read models, log and bus are servers every thread can reach. */
export const canProjectInThread = (config: Config) => Boolean(config.READ_DB_URL && config.EVENTSTORE_URL && config.REDIS_URL);

export interface ProjectorThread {
  /** Lets the thread open its backends and project; resolves once its projector runs, so the server listens only then. */
  start(): Promise<Projector>;
  /** Ends a thread that was never started, when the server fails to start. */
  abandon(): Promise<void>;
}

/**
 * Creates the thread at once, so that loading its code (from source, compiling it again) overlaps the server opening
 * its own backends; it opens its own only when `start` says so.
 */
export function spawnProjectorThread(config: Config, logger: Logger): ProjectorThread {
  const entry = new URL(`./entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  let stopping = false;
  let restart: NodeJS.Timeout | undefined;
  let exited = Promise.resolve();
  let worker: Worker;

  const spawn = (): Worker => {
    const thread = entry.pathname.endsWith('.ts')
      ? // From source (tsx), a thread does not inherit the TypeScript loader: it registers it before its entry.
        new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, {
          eval: true,
          workerData: { config },
        })
      : new Worker(entry, { workerData: { config } });
    worker = thread;
    thread.on('error', (err) => logger.error({ err }, 'projector thread failed'));
    exited = once(thread, 'exit').then(([code]) => {
      if (stopping) return;
      logger.error({ code }, 'projector thread ended; starting another');
      restart = setTimeout(() => spawn().postMessage(OPEN), RESTART_MS);
    });
    return thread;
  };
  const first = spawn();
  const settle = () => {
    stopping = true;
    clearTimeout(restart);
  };

  return {
    async start() {
      const started = new Promise<void>((resolve) => first.on('message', (message) => message === STARTED && resolve()));
      const ended = once(first, 'exit').then(([code]) => {
        throw new Error(`the projector thread ended (${String(code)}) before it started; its log lines say why`);
      });
      first.postMessage(OPEN);
      try {
        await Promise.race([started, ended]);
      } catch (error) {
        settle();
        throw error;
      }
      ended.catch(() => {});
      return {
        async stop() {
          settle();
          worker.postMessage(STOP);
          await exited;
        },
      };
    },
    async abandon() {
      settle();
      await worker.terminate();
    },
  };
}
