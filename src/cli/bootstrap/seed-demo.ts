/**
 * `mirror-chat seed-demo`: the users, groups and conversations of demo-script.ts, every event through the commands
 * layer as the API would write it. The demo's usernames are fixed, so a second run on the same backends refuses and
 * changes nothing (exit code 1): the demo is there already, or someone else took those names.
 */
import { Command } from 'commander';
import type { Commands } from '../../commands/index.js';
import { assertNever } from '../../domain/errors.js';
import { MAX_READ_BATCH } from '../../domain/reads.js';
import { jsonOption, print, sharedBackendsHelp, type Output } from '../command-kit.js';
import { parseConfig, type Config } from '../config.js';
import { createAccount, lookupUser, type Account } from './accounts.js';
import { DEMO_PASSWORD, demoGroups, demoPeople, type DemoGroup } from './demo-script.js';
import { table } from './table.js';
import { withCommands } from './with-commands.js';

interface SeededGroup {
  id: string;
  name: string;
  members: number;
  messages: number;
}

/** Plays one group's steps in order; `people` are the demo accounts by username. */
async function playGroup(commands: Commands, group: DemoGroup, people: Map<string, Account>): Promise<SeededGroup> {
  const person = (username: string) => people.get(username)!.id;
  const owner = people.get(group.owner)!;
  const { groupId } = await commands.createGroup({ ownerUserId: owner.id, ownerUsername: owner.username, name: group.name });
  for (const { username, role } of group.members) {
    await commands.addMember({ groupId, actorUserId: owner.id, userId: person(username), username, role });
  }
  const keyed = new Map<string, { messageId: string; senderUserId: number }>();
  const message = (key: string) => keyed.get(key)!.messageId;
  const sent: string[] = [];
  for (const step of group.steps) {
    switch (step.type) {
      case 'send': {
        const senderUserId = person(step.from);
        const parentMessageId = step.replyTo ? message(step.replyTo) : null;
        // No metadata: the mentions are found in the text, as for a client that sends none.
        const { messageId } = await commands.sendMessage({ groupId, senderUserId, content: step.text, contentType: 'text', parentMessageId, clientMessageId: null, metadata: null });
        sent.push(messageId);
        if (step.key) keyed.set(step.key, { messageId, senderUserId });
        break;
      }
      case 'react':
        await commands.addReaction({ groupId, messageId: message(step.to), userId: person(step.by), emoji: step.emoji });
        break;
      case 'pin':
        await commands.pinMessage({ groupId, messageId: message(step.message), userId: person(step.by), note: step.note });
        break;
      case 'edit': {
        const { messageId, senderUserId } = keyed.get(step.message)!;
        await commands.editMessage({ groupId, messageId, editorUserId: senderUserId, content: step.text });
        break;
      }
      case 'delete':
        await commands.deleteMessage({ groupId, messageId: message(step.message), actorUserId: person(step.by) });
        break;
      case 'read':
        await commands.markRead({ groupId, userId: person(step.by), messageIds: sent.slice(-MAX_READ_BATCH) });
        break;
      default:
        assertNever(step);
    }
  }
  return { id: groupId, name: group.name, members: group.members.length + 1, messages: sent.length };
}

/** Where clients reach the server this configuration starts: a wildcard address is reached on localhost. */
function apiUrl({ HOST, PORT }: Config): string {
  const host = HOST === '0.0.0.0' || HOST === '::' ? 'localhost' : HOST.includes(':') ? `[${HOST}]` : HOST;
  return `http://${host}:${PORT}/mirror/api`;
}

function howToLogIn(api: string, username: string): string {
  const body = JSON.stringify({ username, password: DEMO_PASSWORD });
  return [
    `Start the server if it is not running (npm start, or npx mirror-chat serve), then log in as any of them, for example:`,
    `  curl -s ${api}/auth/login -H 'content-type: application/json' -d '${body}'`,
    `and list ${username}'s groups with the token it answers:`,
    `  curl -s ${api}/groups -H 'authorization: Bearer <token>'`,
  ].join('\n');
}

export function seedDemoCommand(): Command {
  return new Command('seed-demo')
    .description(`create ${demoPeople.length} demo users (one known password), ${demoGroups.length} groups and their conversations, to try the server with`)
    .option(...jsonOption)
    .addHelpText('after', sharedBackendsHelp)
    .action(async (options: Output) => {
      const config = parseConfig(process.env);
      const seeded = await withCommands(
        'mirror-chat seed-demo',
        async (backends, commands) => {
          const taken = [];
          for (const { username } of demoPeople) if (await lookupUser(backends, { login: username })) taken.push(username);
          if (taken.length > 0) {
            throw new Error(
              `The demo's usernames ${taken.join(', ')} are taken on these backends: seed-demo ran here before (log in as ` +
                `${taken[0]}, password "${DEMO_PASSWORD}"), or someone registered them. Nothing was created.`,
            );
          }
          const people = new Map<string, Account>();
          for (const person of demoPeople) people.set(person.username, await createAccount(commands, { ...person, password: DEMO_PASSWORD }));
          const groups = [];
          for (const group of demoGroups) groups.push(await playGroup(commands, group, people));
          return { users: [...people.values()], password: DEMO_PASSWORD, groups, apiUrl: apiUrl(config) };
        },
        config,
      );
      const messages = seeded.groups.reduce((sum, group) => sum + group.messages, 0);
      print(
        options,
        seeded,
        [
          `Seeded the demo: ${seeded.users.length} users, ${seeded.groups.length} groups, ${messages} messages.`,
          '',
          table(['id', 'username', 'email', 'password'], seeded.users.map((user) => [user.id, user.username, user.email, DEMO_PASSWORD])),
          '',
          table(['group', 'name', 'members', 'messages'], seeded.groups.map((group) => [group.id, group.name, group.members, group.messages])),
          '',
          howToLogIn(seeded.apiUrl, seeded.users[0]!.username),
        ].join('\n'),
      );
    });
}
