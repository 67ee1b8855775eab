/**
 * What `projections rebuild` and `verify` share while they replay the log: a progress bar on stderr when someone
 * watches it, notices about an unfinished earlier run, and Ctrl-C (or SIGTERM) stopping after the batch in progress
 * so that the next run resumes from there.
 */
import cliProgress from 'cli-progress';
import { ReplayInterrupted, type ReplayOptions, type ReplayProgress } from '../../projections/rebuild.js';

/** Exit code of a run stopped by a signal, as shells report one ended by SIGINT. */
export const INTERRUPTED = 130;

export const embeddedHelp = `
In the embedded profile, stop the server first: the command refuses while it
runs (DATA_DIR has one owner), and replays with nothing else projecting.`;

function progressBar(label: string): { update(progress: ReplayProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} {bar} {value}/{total} events, {speed} events/s, {eta_formatted} left`, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started: number | undefined;
  return {
    update({ done, total }) {
      started ??= Date.now();
      const speed = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
      if (done === 0) bar.start(total, 0, { speed });
      bar.setTotal(total);
      bar.update(done, { speed });
    },
    stop: () => bar.stop(),
  };
}

/**
 * Runs `replay` with a bar labelled `label`; an interrupted run says how to resume, and answers undefined. Exit codes
 * are for the caller to set once the backends are closed: PGlite's shutdown sets one of its own.
 */
export async function replayRun<T>(label: string, replay: (options: ReplayOptions) => Promise<T>): Promise<T | undefined> {
  const stop = new AbortController();
  const onSignal = () => {
    // A second signal is the operator's impatience: the transaction in progress rolls back, and the next run resumes.
    if (stop.signal.aborted) process.exit(INTERRUPTED);
    console.error('Stopping after the batch in progress (again to stop at once)…');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const bar = progressBar(label);
  try {
    return await replay({ onProgress: bar.update, onNotice: (text) => console.error(text), signal: stop.signal });
  } catch (error) {
    if (!(error instanceof ReplayInterrupted)) throw error;
    console.error(error.message);
    return undefined;
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
