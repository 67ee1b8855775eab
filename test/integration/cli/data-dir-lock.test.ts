import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { lockDataDir } from '../../../src/cli/data-dir-lock.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mirror-chat-lock-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('lets one process hold DATA_DIR, naming it to any other, until it releases it', async () => {
  const lock = await lockDataDir(dataDir, 'the server');
  await expect(lockDataDir(dataDir, 'mirror-chat keys')).rejects.toThrow(
    `the server (pid ${process.pid}) is running on DATA_DIR ${dataDir}; stop it first`,
  );
  await lock.release();
  const next = await lockDataDir(dataDir, 'mirror-chat keys');
  await expect(lockDataDir(dataDir, 'the server')).rejects.toThrow(/^mirror-chat keys \(pid \d+\) is running/);
  await next.release();
});

it('takes over a lock whose process died without releasing it', async () => {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  await writeFile(join(dataDir, 'mirror-chat.lock'), `${child.pid}\nthe server\n`);

  const lock = await lockDataDir(dataDir, 'the server');
  expect(await readFile(join(dataDir, 'mirror-chat.lock'), 'utf8')).toBe(`${process.pid}\nthe server\n`);
  await lock.release();
});
