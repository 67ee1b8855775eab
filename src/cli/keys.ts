/**
 * `mirror-chat keys …`: rotating a group's data key, rotating the master key, crypto-shredding a group. Runs on
 * exactly the server's configuration (the same environment, the same backends); afterwards the running servers are
 * told on the bus to read the group's keys again. Results go to stdout (text, or JSON with --json); prompts and
 * warnings to stderr.
 */
import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { groupKeyScope } from '../infra/crypto/event-sealing.js';
import { KEYS_CHANGED_CHANNEL } from '../infra/crypto/group-encryption-manager.js';
import { groupExists } from '../projections/queries/groups.js';
import { dropShreddedGroup } from '../projections/shredding.js';
import { groupOption, jsonOption, print, withBackends, type Output } from './command-kit.js';
import type { Backends } from './backends.js';
import { parseConfig, type Config } from './config.js';
import { masterKeyFile, writeMasterKeyFile } from './master-key.js';

const withKeysBackends = <T>(use: (backends: Backends) => Promise<T>, config?: Config) => withBackends('mirror-chat keys', use, config);

/** Shredding removes the group from the read models too, so a shredded group is known by its tombstone. */
async function groupState({ crypto, readDb }: Backends, groupId: string): Promise<'active' | 'shredded'> {
  if (await crypto.isShredded(groupKeyScope(groupId))) return 'shredded';
  if (await groupExists({ db: readDb }, groupId)) return 'active';
  throw new Error(`No group ${groupId}`);
}

async function confirmShred(groupId: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await terminal.question(
      `Shredding destroys every key of group ${groupId}: its history can never be read again, from the event store, ` +
        `the read models, search or any backup.\nType the group id to confirm: `,
    );
    return answer.trim() === groupId;
  } finally {
    terminal.close();
  }
}

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    "manage the keys that encrypt each group's data: wrapped data keys in the read database, under the master key",
  );

  keys
    .command('rotate')
    .description('give a group a new data-key version: new messages are sealed with it, older versions still open theirs')
    .requiredOption(...groupOption)
    .option(...jsonOption)
    .action(async (options: Output & { group: string }) => {
      await withKeysBackends(async (backends) => {
        if ((await groupState(backends, options.group)) === 'shredded') throw new Error(`Group ${options.group} was shredded: it has no keys to rotate`);
        const scope = groupKeyScope(options.group);
        const version = await backends.crypto.rotate(scope);
        await backends.bus.publish(KEYS_CHANGED_CHANNEL, scope);
        print(options, { groupId: options.group, version }, `Group ${options.group}: new data is sealed with key version ${version}; older versions still open what they sealed.`);
      });
    });

  keys
    .command('rotate-master')
    .description('re-wrap every data key under a new master key (key-encryption key); events and rows are not touched')
    .option('--new-key-file <path>', 'where to write the new master key when it comes from MASTER_KEY (required then)')
    .option(...jsonOption)
    .action(async (options: Output & { newKeyFile?: string }) => {
      const config = parseConfig(process.env);
      const inDataDir = !config.MASTER_KEY;
      if (!inDataDir && !options.newKeyFile) throw new Error('MASTER_KEY is set, so the new master key cannot replace it in place: give --new-key-file <path>');
      if (inDataDir && options.newKeyFile) throw new Error(`The master key is ${masterKeyFile(resolve(config.DATA_DIR))} and is replaced there: --new-key-file is for when MASTER_KEY is set`);
      await withKeysBackends(async ({ crypto }) => {
        const keyFile = inDataDir ? masterKeyFile(resolve(config.DATA_DIR)) : resolve(options.newKeyFile!);
        // Written before the re-wrap commits, so no moment exists where the data keys are under a key no file holds.
        const staged = inDataDir ? `${keyFile}.new` : keyFile;
        const newKek = randomBytes(32);
        await writeMasterKeyFile(staged, newKek).catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EEXIST' ? new Error(`${staged} already exists; move it away first (it may hold a master key)`) : error;
        });
        const rewrapped = await crypto.rotateMaster(newKek).catch((error: Error) => {
          // Kept: a lost connection can hide a commit, and then only this file opens the data keys.
          throw new Error(`${error.message}\nThe master key was not rotated. ${staged} holds the new key in case the re-wrap committed all the same: delete it once the server starts with the old one.`);
        });
        if (inDataDir) await rename(staged, keyFile);
        const sessions = config.JWT_SECRET ? '' : ' Sign-in tokens are derived from the master key (JWT_SECRET is not set): users sign in again.';
        const next = inDataDir
          ? 'The server uses it from its next start.'
          : 'Set MASTER_KEY to its contents, put the old MASTER_KEY in MASTER_KEY_PREVIOUS, and restart every server; ' +
            'remove it from MASTER_KEY_PREVIOUS once all of them have restarted (they re-wrap keys that servers still on the old key created meanwhile).';
        print(
          options,
          { rewrapped, keyFile },
          `Re-wrapped ${rewrapped} data keys under a new master key, written to ${keyFile} (back it up). ${next}${sessions} ` +
            'Backups taken before now still need the old master key.',
        );
      }, config);
    });

  keys
    .command('shred')
    .description("destroy every version of a group's data key: its history can never be read again, from anywhere")
    .requiredOption(...groupOption)
    .option('--yes', 'shred without asking to type the group id')
    .option(...jsonOption)
    .action(async (options: Output & { group: string; yes?: boolean }) => {
      const groupId = options.group;
      if (!options.yes && !process.stdin.isTTY) throw new Error(`Refusing to shred group ${groupId} without --yes: there is no terminal to confirm on`);
      await withKeysBackends(async (backends) => {
        const already = (await groupState(backends, groupId)) === 'shredded';
        if (!already && !options.yes && !(await confirmShred(groupId))) throw new Error('Not confirmed: nothing was shredded');
        const scope = groupKeyScope(groupId);
        await backends.crypto.shred(scope);
        // Told before the rows go, running servers drop the group's keys and stop projecting it; one that misses the
        // message finds out within the key refresh interval (DEFAULT_REFRESH_MS).
        await backends.bus.publish(KEYS_CHANGED_CHANNEL, scope);
        await dropShreddedGroup(backends.readDb, groupId);
        print(
          options,
          { groupId, shredded: true, alreadyShredded: already },
          already ? `Group ${groupId} was already shredded; its read-model rows are gone too.` : `Group ${groupId} is shredded: every version of its key is destroyed.`,
        );
      });
    });

  return keys;
}
