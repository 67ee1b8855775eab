/**
 * Resume after reconnect (README, "Resume after reconnect"): `chat:join_group` with `lastMessageId` sends that socket
 * the group's frames it missed (projections/queries/resume.ts), then live frames follow with no gap and no duplicate.
 *
 * The socket joins the room before the missed frames are read, so nothing broadcast meanwhile escapes it; those live
 * frames are held until the replay has gone out, then sent, less those the replay already carried. The projector may
 * broadcast a replayed event later still (the store runs ahead of the read models), so the replayed frames' keys stay
 * while the socket is in the group, and such a late copy is dropped when it comes.
 */
import type { GroupFrame } from '../../projections/broadcasts.js';
import { forRecipient } from '../../projections/broadcasts.js';
import { missedFrames } from '../../projections/queries/resume.js';
import type { ApiDeps } from '../deps.js';
import type { ChatClient } from './rooms.js';

/** How live frames of one group pass a resuming socket. */
export interface ResumeGate {
  /** Live frames waiting for the replay to go out; null once it has. */
  held: GroupFrame[] | null;
  /** Keys of replayed frames whose live copy has not come yet. */
  replayed: Set<string>;
}

/** Why the client is told to refetch over REST instead. */
export const RESYNC_TOO_MANY_MISSED = 'too_many_missed_events';

/** Live frames of `groupId` are held for `client` from now on; call before it joins the room. */
export function holdLive(client: ChatClient, groupId: string): ResumeGate {
  const gate: ResumeGate = { held: [], replayed: new Set() };
  client.resumes.set(groupId, gate);
  return gate;
}

/** Whether a live frame goes to the socket now: not while held (it is kept), not when the replay carried it. */
export function passes(gate: ResumeGate | undefined, frame: GroupFrame): boolean {
  if (!gate) return true;
  if (gate.held) {
    gate.held.push(frame);
    return false;
  }
  const key = replayKey(frame);
  return key === null || !gate.replayed.delete(key);
}

/** Sends what the socket missed, or `chat:resync_required` past the bound, then the live frames held meanwhile. */
export async function replayMissed(
  deps: Pick<ApiDeps, 'read' | 'eventStore' | 'wsResumeMaxEvents'>,
  client: ChatClient,
  gate: ResumeGate,
  groupId: string,
  lastMessageId: string,
  requestId: string | undefined,
): Promise<void> {
  const missed = await missedFrames(deps.read, deps.eventStore, groupId, lastMessageId, deps.wsResumeMaxEvents);
  // Removed from the group meanwhile: the removal has told the socket already.
  if (client.resumes.get(groupId) !== gate) return;
  const send = (frame: GroupFrame) => client.send(JSON.stringify(forRecipient(frame, client.userId)));
  if (missed === null) {
    const payload = { groupId, reason: RESYNC_TOO_MANY_MISSED };
    client.send(JSON.stringify({ type: 'chat:resync_required', payload, ...(requestId ? { requestId } : {}) }));
  }
  for (const frame of missed ?? []) {
    send(frame);
    const key = replayKey(frame);
    if (key !== null) gate.replayed.add(key);
  }
  const held = gate.held ?? [];
  gate.held = null;
  for (const frame of held) if (passes(gate, frame)) send(frame);
  if (gate.replayed.size === 0) client.resumes.delete(groupId);
}

/** What tells a replayed frame's live copy: a message is sent and deleted once, and each edit has its own time. */
function replayKey(frame: GroupFrame): string | null {
  switch (frame.type) {
    case 'chat:message':
      return `sent|${frame.payload.message.id}`;
    case 'chat:message_edited':
      return `edited|${frame.payload.messageId}|${frame.payload.editedAt}`;
    case 'chat:message_deleted':
      return `deleted|${frame.payload.messageId}`;
    default:
      return null;
  }
}
