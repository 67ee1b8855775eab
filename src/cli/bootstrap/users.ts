/** `mirror-chat users create`: an account made from the command line, under the rules `POST /auth/register` applies. */
import { Command } from 'commander';
import { registerBody } from '../../api/routes/auth.js';
import { jsonOption, print, sharedBackendsHelp, type Output } from '../command-kit.js';
import { createAccount } from './accounts.js';
import { parsedBy, readNewPassword } from './input.js';
import { table } from './table.js';
import { withCommands } from './with-commands.js';

function checkedPassword(password: string): string {
  const parsed = registerBody.shape.password.safeParse(password);
  if (!parsed.success) throw new Error(`The password ${parsed.error.issues[0]!.message}: nothing was created`);
  return parsed.data;
}

export function usersCommand(): Command {
  const users = new Command('users').description('create user accounts without going through the API').addHelpText('after', sharedBackendsHelp);

  users
    .command('create')
    .description('register a user; the password is typed twice on the terminal (not echoed), or read from standard input')
    .requiredOption('--username <name>', '3 to 32 letters, digits, dots, dashes or underscores, unique in any letter case', parsedBy(registerBody.shape.username))
    .requiredOption('--email <address>', 'unique in any letter case', parsedBy(registerBody.shape.email))
    .option('--password-stdin', 'read the password from standard input (all of it, less one final line break)')
    .option(...jsonOption)
    .addHelpText('after', sharedBackendsHelp)
    .action(async (options: Output & { username: string; email: string; passwordStdin?: boolean }) => {
      // Asked for before the backends open, so a slow typist never holds DATA_DIR.
      const password = checkedPassword(await readNewPassword(options.username, options.passwordStdin ?? false));
      const user = await withCommands('mirror-chat users', (_, commands) => createAccount(commands, { username: options.username, email: options.email, password }));
      print(options, user, table(['id', 'username', 'email'], [[user.id, user.username, user.email]]));
    });

  return users;
}
