/** What `users`, `groups` and `seed-demo` read from the operator: option values checked by the API's own rules, and passwords. */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

/** A commander option parser that accepts exactly what `schema` (an API request field) accepts, and says why not. */
export function parsedBy<S extends z.ZodType>(schema: S): (value: string) => z.output<S> {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((issue) => issue.message).join('; '));
    return parsed.data;
  };
}

/** `--user` / `--owner`: a numeric user id, or else a username (an email also names its account). */
export type UserRef = { id: number } | { login: string };

export function parseUserRef(value: string): UserRef {
  const ref = value.trim();
  if (ref === '') throw new InvalidArgumentError('must be a username or a numeric user id');
  return /^\d+$/.test(ref) ? { id: Number(ref) } : { login: ref };
}

/** Everything on standard input, less the line break `echo` or a password file ends with. */
async function passwordFromStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin.setEncoding('utf8')) text += chunk;
  return text.replace(/\r?\n$/, '');
}

/** One line typed on the terminal and not echoed: readline edits it as usual, but writes to nowhere. */
async function askHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });
  const terminal = createInterface({ input: process.stdin, output: nowhere, terminal: true });
  const cancel = new AbortController();
  terminal.on('SIGINT', () => cancel.abort());
  try {
    return await terminal.question('', { signal: cancel.signal });
  } catch (error) {
    throw cancel.signal.aborted ? new Error('Cancelled: nothing was created') : error;
  } finally {
    terminal.close();
    process.stderr.write('\n');
  }
}

/**
 * The new user's password: from standard input with --password-stdin (for scripts), else typed twice on the terminal.
 * Never an option's value, which would stay in the shell's history and the process list.
 */
export async function readNewPassword(username: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) return passwordFromStdin();
  if (!process.stdin.isTTY) throw new Error('There is no terminal to type the password on: give it on standard input with --password-stdin');
  const password = await askHidden(`Password for ${username}: `);
  if ((await askHidden('The same again: ')) !== password) throw new Error('The two passwords differ: nothing was created');
  return password;
}
