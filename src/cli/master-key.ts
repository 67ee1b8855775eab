import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Where the embedded profile keeps its key-encryption key when MASTER_KEY is not set. */
export const masterKeyFile = (dataDir: string) => join(dataDir, 'master.key');

/** Writes a key file readable by its owner only; never over an existing file. */
export async function writeMasterKeyFile(path: string, key: Uint8Array): Promise<void> {
  await writeFile(path, `${Buffer.from(key).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
}

/**
 * The key-encryption key: MASTER_KEY when given; otherwise (embedded use) the one in DATA_DIR, created with mode
 * 0600 on first start. Losing it makes every stored message unreadable, hence the loud log line.
 */
export async function loadMasterKey(configured: string | undefined, dataDir: string, logger: Logger): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64');
  const path = masterKeyFile(dataDir);
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (key.byteLength !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeMasterKeyFile(path, key);
  logger.warn({ path }, 'created a new master key; back it up — without it no stored message can be read');
  return key;
}
