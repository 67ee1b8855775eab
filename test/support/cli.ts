/** `mirror-chat …` as an operator runs it: a child process from source, with no terminal, on a server's environment. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll } from 'vitest';
import { profile } from './backends.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from './server.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `input` is all the command reads on standard input (nothing unless given). */
export async function runCli(args: string[], env: Record<string, string>, input = ''): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A command that exits without reading its input (a refusal) is no failure of the test.
  child.stdin.on('error', () => {});
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

export interface CliServer {
  backends: TestBackends;
  server: TestServer;
  /**
   * Runs `use` where the profile lets another process work on the server's backends: beside the server (full), or
   * while it is stopped (embedded: DATA_DIR has one owner), restarting it afterwards.
   */
  besideServer<T>(use: () => Promise<T>): Promise<T>;
}

/** For a whole test file of CLI runs: fresh backends and a server on them; read the fields inside tests. */
export function useCliServer(): CliServer {
  const file = {
    backends: undefined as unknown as TestBackends,
    server: undefined as unknown as TestServer,
    async besideServer<T>(use: () => Promise<T>): Promise<T> {
      if (profile === 'full') return use();
      await file.server.close();
      try {
        return await use();
      } finally {
        file.server = await startTestServer({ backends: file.backends });
      }
    },
  };
  beforeAll(async () => {
    file.backends = await freshBackends();
    file.server = await startTestServer({ backends: file.backends });
  });
  afterAll(async () => {
    await file.server?.stop();
    await file.backends?.drop();
  });
  return file;
}
