/**
 * Mentions (`metadata.mentions`): each names a member by the `@username` text standing at its indices in the content,
 * or everyone by `@everyone`. Indices are UTF-16 offsets, as JavaScript clients count them; `endIndex` is exclusive.
 */
import { DomainError, type FieldError } from './errors.js';
import type { MentionInfo } from './messages.js';

export const EVERYONE = '@everyone';

export interface MemberName {
  userId: number;
  username: string;
}

/** Checks client-sent mentions against the content and the group's members; every fault is a field error. */
export function validateMentions(content: string, mentions: MentionInfo[], members: ReadonlyMap<number, { username: string }>): MentionInfo[] {
  const faults: FieldError[] = [];
  mentions.forEach((m, i) => {
    const field = `metadata.mentions.${i}`;
    const text = content.slice(m.startIndex, m.endIndex);
    if (m.endIndex <= m.startIndex || m.endIndex > content.length) {
      faults.push({ field, message: 'indices must mark a span inside the content' });
    } else if (m.type === 'everyone') {
      if (text !== EVERYONE) faults.push({ field, message: `the content there must read ${EVERYONE}` });
    } else if (m.type === 'user') {
      const member = members.get(m.userId);
      if (!member) faults.push({ field, message: 'must name a member of this group' });
      else if (member.username !== m.username || text !== `@${member.username}`) {
        faults.push({ field, message: `the content there must read @${member.username}` });
      }
    } else {
      faults.push({ field, message: 'type must be user or everyone' });
    }
  });
  if (faults.length > 0) throw DomainError.validation(faults, 'Invalid mentions');
  return mentions;
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_.-]/u.test(c);

/**
 * The mentions an edited text holds: every `@username` of a member and every `@everyone` standing as a word of its
 * own. An edit sends only new content, so this is how editing a mention in or out counts.
 */
export function detectMentions(content: string, members: Iterable<MemberName>): MentionInfo[] {
  const found: MentionInfo[] = [];
  const names = [{ userId: 0, username: EVERYONE.slice(1), everyone: true }, ...[...members].map((m) => ({ ...m, everyone: false }))];
  for (const name of names) {
    const token = `@${name.username}`;
    for (let at = content.indexOf(token); at >= 0; at = content.indexOf(token, at + 1)) {
      const end = at + token.length;
      if (isWordChar(content[at - 1]) || isWordChar(content[end])) continue;
      found.push({ userId: name.userId, username: name.username, startIndex: at, endIndex: end, type: name.everyone ? 'everyone' : 'user' });
    }
  }
  return found.sort((a, b) => a.startIndex - b.startIndex);
}

/** Whom a message's mentions reach: the members named, or every member but the sender for @everyone. */
export function mentionedUserIds(mentions: readonly MentionInfo[], memberIds: Iterable<number>, senderUserId: number): Map<number, 'user' | 'everyone'> {
  const reached = new Map<number, 'user' | 'everyone'>();
  if (mentions.some((m) => m.type === 'everyone')) for (const id of memberIds) if (id !== senderUserId) reached.set(id, 'everyone');
  for (const m of mentions) if (m.type === 'user' && m.userId !== senderUserId) reached.set(m.userId, 'user');
  return reached;
}
