/**
 * `mirror-chat groups create|add-member`: groups and members set up from the command line, under the rules the API
 * applies. The operator acts as the group's owner: the events say the owner created the group and added each member.
 */
import { Command, Option } from 'commander';
import { addMemberBody, createGroupBody } from '../../api/routes/groups.js';
import type { GroupCreated } from '../../domain/groups.js';
import { groupStreamId, openEvent } from '../../infra/crypto/event-sealing.js';
import { getGroup } from '../../projections/queries/groups.js';
import { groupOption, jsonOption, print, sharedBackendsHelp, type Output } from '../command-kit.js';
import type { Backends } from '../backends.js';
import { requireUser } from './accounts.js';
import { parsedBy, parseUserRef, type UserRef } from './input.js';
import { table } from './table.js';
import { withCommands } from './with-commands.js';

const userRefHelp = 'a username or a numeric user id';

/** As with users (accounts.ts), the read models may not have the group yet; its stream opens with its creation. */
async function groupOwnerId({ readDb, eventStore, crypto }: Backends, groupId: string): Promise<number> {
  const projected = await getGroup({ db: readDb }, groupId);
  if (projected) return projected.ownerUserId;
  const [first] = await eventStore.readStream(groupStreamId(groupId));
  if (!first) throw new Error(`No group ${groupId}`);
  return (await openEvent<GroupCreated>(crypto, first)).data.ownerUserId;
}

export function groupsCommand(): Command {
  const groups = new Command('groups').description('create groups and add members without going through the API').addHelpText('after', sharedBackendsHelp);

  groups
    .command('create')
    .description('create a group; its owner is its first member')
    .requiredOption('--name <name>', 'the group name (1 to 100 characters)', parsedBy(createGroupBody.shape.name))
    .requiredOption('--owner <user>', userRefHelp, parseUserRef)
    .option(...jsonOption)
    .addHelpText('after', sharedBackendsHelp)
    .action(async (options: Output & { name: string; owner: UserRef }) => {
      const group = await withCommands('mirror-chat groups', async (backends, commands) => {
        const owner = await requireUser(backends, options.owner);
        const { groupId } = await commands.createGroup({ ownerUserId: owner.id, ownerUsername: owner.username, name: options.name });
        return { id: groupId, name: options.name, owner: { id: owner.id, username: owner.username } };
      });
      print(options, group, table(['id', 'name', 'owner'], [[group.id, group.name, `${group.owner.username} (${group.owner.id})`]]));
    });

  groups
    .command('add-member')
    .description("add a user to a group, or change a member's role, as the group's owner")
    .requiredOption(...groupOption)
    .requiredOption('--user <user>', userRefHelp, parseUserRef)
    .addOption(new Option('--role <role>', 'the role in the group').choices(addMemberBody.shape.role.unwrap().options).default('member'))
    .option(...jsonOption)
    .addHelpText('after', sharedBackendsHelp)
    .action(async (options: Output & { group: string; user: UserRef; role: 'member' | 'admin' }) => {
      const membership = await withCommands('mirror-chat groups', async (backends, commands) => {
        const actorUserId = await groupOwnerId(backends, options.group);
        const user = await requireUser(backends, options.user);
        const { position } = await commands.addMember({ groupId: options.group, actorUserId, userId: user.id, username: user.username, role: options.role });
        return { groupId: options.group, userId: user.id, username: user.username, role: options.role, changed: position !== null };
      });
      print(
        options,
        membership,
        membership.changed
          ? table(['group', 'user', 'role'], [[membership.groupId, `${membership.username} (${membership.userId})`, membership.role]])
          : `${membership.username} (${membership.userId}) already is a ${membership.role} of group ${membership.groupId}: nothing changed.`,
      );
    });

  return groups;
}
