/**
 * The embedded profile's database is a set of files under DATA_DIR that one process at a time may open: a second
 * one would corrupt it. A lock file there names the process holding it (pid and what it is); a lock whose process
 * has died is stale and taken over.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'mirror-chat.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  // A lock file cut short names no process (and kill(0) would signal our own process group).
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Takes DATA_DIR for this process, or throws naming the running process that holds it. `holder` says what this process is. */
export async function lockDataDir(dataDir: string, holder: string): Promise<DataDirLock> {
  const path = join(dataDir, FILE);
  const mine = `${process.pid}\n${holder}\n`;
  for (;;) {
    try {
      await writeFile(path, mine, { flag: 'wx' });
      return {
        async release() {
          if ((await readLock(path)) === mine) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const theirs = await readLock(path);
    if (theirs === null) continue;
    const [pid, name] = theirs.split('\n');
    if (isRunning(Number(pid))) {
      throw new Error(`${name || 'mirror-chat'} (pid ${pid}) is running on DATA_DIR ${dataDir}; stop it first (lock file ${path})`);
    }
    // Stale: its process died without releasing it. Removed only if no other process took it over meanwhile.
    if ((await readLock(path)) === theirs) await rm(path, { force: true });
  }
}
