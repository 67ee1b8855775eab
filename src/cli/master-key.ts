import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

const FILE = 'master.key';

/**
 * The key-encryption key: MASTER_KEY when given; otherwise (embedded use) the one in DATA_DIR, created with mode
 * 0600 on first start. Losing it makes every stored message unreadable, hence the loud log line.
 */
export async function loadMasterKey(configured: string | undefined, dataDir: string, logger: Logger): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64');
  const path = join(dataDir, FILE);
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (key.byteLength !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ path }, 'created a new master key; back it up — without it no stored message can be read');
  return key;
}
