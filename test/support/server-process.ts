/** A server in a child process of its own, as an operator would run a second one: `mirror-chat serve` from source. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  logs: string[];
  /** SIGKILL: no shutdown hooks run, connections just drop. */
  kill(): Promise<void>;
}

/** `nodeArgs`: options for node itself, such as the benchmarks' `--cpu-prof`. */
export async function spawnServer(env: Record<string, string>, timeoutMs = 30_000, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process did not start:\n${logs.join('\n')}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'MirrorGroups Chat is listening' && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws') + '/mirror/groups/chat',
    child,
    logs,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
