/**
 * Mentions (`metadata.mentions`): each names a member by the `@username` text standing at its indices in the content,
 * or everyone by `@everyone`. Indices are UTF-16 offsets, as JavaScript clients count them; `endIndex` is exclusive.
 * Usernames are unique regardless of letter case (users.ts) and ASCII only, so "@Alice" names alice too.
 */
import { DomainError, type FieldError } from './errors.js';
import type { MentionInfo, MessageMetadata } from './messages.js';

export const EVERYONE = '@everyone';

type Members = ReadonlyMap<number, { username: string }>;

/** Folds ASCII letters only: the same length as the input, so indices found in the folded text hold in the original. */
const fold = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

const isNameChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_.-]/u.test(c);
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/**
 * Whether `@name` at [start, end) is a mention of its own rather than part of a longer word: not preceded by a name
 * character ("bob@alice"), not running on into a longer name ("@alicex", "@alice.b"); a sentence may still end right
 * after it ("thanks @alice.").
 */
function standsAlone(content: string, start: number, end: number): boolean {
  if (isNameChar(content[start - 1])) return false;
  const next = content[end];
  if (next === '.' || next === '-') return !isWordChar(content[end + 1]);
  return !isWordChar(next);
}

/** What is wrong with one client-sent mention, or null when it names what stands at its indices. */
function mentionFault(content: string, m: MentionInfo, members: Members): string | null {
  if (m.endIndex <= m.startIndex || m.endIndex > content.length) return 'indices must mark a span inside the content';
  const text = fold(content.slice(m.startIndex, m.endIndex));
  if (m.type === 'everyone') {
    if (text !== EVERYONE) return `the content there must read ${EVERYONE}`;
  } else if (m.type === 'user') {
    const member = members.get(m.userId);
    if (!member) return 'must name a member of this group';
    if (member.username !== m.username || text !== fold(`@${member.username}`)) return `the content there must read @${member.username}`;
  } else {
    return 'type must be user or everyone';
  }
  return standsAlone(content, m.startIndex, m.endIndex) ? null : 'must mark a whole @name, not part of a longer word';
}

/** Checks client-sent mentions against the content and the group's members; every fault is a field error. */
export function validateMentions(content: string, mentions: MentionInfo[], members: Members): void {
  const faults: FieldError[] = [];
  mentions.forEach((m, i) => {
    const message = mentionFault(content, m, members);
    if (message) faults.push({ field: `metadata.mentions.${i}`, message });
  });
  if (faults.length > 0) throw DomainError.validation(faults, 'Invalid mentions');
}

/**
 * The mentions a text holds: every `@username` of a member and every `@everyone` standing as a word of its own. An
 * edit sends only new content, so this is how editing a mention in or out counts.
 */
export function detectMentions(content: string, members: Members): MentionInfo[] {
  const folded = fold(content);
  const found: MentionInfo[] = [];
  const names = [
    { userId: 0, username: EVERYONE.slice(1), type: 'everyone' as const },
    // "@everyone" always means everyone, even in a group with a member of that name.
    ...[...members]
      .filter(([, m]) => fold(`@${m.username}`) !== EVERYONE)
      .map(([userId, m]) => ({ userId, username: m.username, type: 'user' as const })),
  ];
  for (const name of names) {
    const token = fold(`@${name.username}`);
    for (let at = folded.indexOf(token); at >= 0; at = folded.indexOf(token, at + 1)) {
      const end = at + token.length;
      if (standsAlone(content, at, end)) found.push({ ...name, startIndex: at, endIndex: end });
    }
  }
  return found.sort((a, b) => a.startIndex - b.startIndex);
}

/**
 * The metadata a new message keeps: the client's mentions once checked, or, when it sent none, those the text holds,
 * so "@bob" typed through a client that does not mark mentions reaches bob as it would after an edit.
 */
export function mentionsOnSend(content: string, metadata: MessageMetadata | null, members: Members): MessageMetadata | null {
  if (metadata?.mentions) {
    validateMentions(content, metadata.mentions, members);
    return metadata;
  }
  const mentions = detectMentions(content, members);
  return mentions.length > 0 ? { ...metadata, mentions } : metadata;
}

/** Whom a message's mentions reach: the members named, or every member but the sender for @everyone. */
export function mentionedUserIds(mentions: readonly MentionInfo[], memberIds: Iterable<number>, senderUserId: number): Map<number, 'user' | 'everyone'> {
  const reached = new Map<number, 'user' | 'everyone'>();
  if (mentions.some((m) => m.type === 'everyone')) for (const id of memberIds) if (id !== senderUserId) reached.set(id, 'everyone');
  for (const m of mentions) if (m.type === 'user' && m.userId !== senderUserId) reached.set(m.userId, 'user');
  return reached;
}
