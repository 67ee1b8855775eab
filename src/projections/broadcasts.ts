/**
 * What the projector tells WS gateways after each commit, on one bus channel so that every gateway sees the
 * broadcasts in global log order. Frames carry message text, so each broadcast crosses the bus sealed with its
 * group's key; only the group id travels in clear, to name the key.
 */
import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import { groupKeyScope } from '../infra/crypto/event-sealing.js';
import type { PresenceStatus } from './schema.js';
import type { ChatMessage, ReactionSummary } from './queries/chat-message.js';

export const BROADCAST_CHANNEL = 'chat:broadcasts';

/** The guide's server → client frames (section "Server → Client Messages") that follow from projected events. */
export type GroupFrame =
  | { type: 'chat:message'; payload: { message: ChatMessage; groupId: string } }
  | {
      type: 'chat:message_edited';
      payload: { messageId: string; groupId: string; content: string; editedAt: string; editedBy: number };
    }
  | { type: 'chat:message_deleted'; payload: { messageId: string; groupId: string; deletedBy: number } }
  /** `hasReacted` is set for each recipient by `forRecipient`. */
  | { type: 'chat:reactions_updated'; payload: { messageId: string; groupId: string; reactions: ReactionSummary[] } }
  | { type: 'chat:message_read'; payload: { messageIds: string[]; groupId: string; userId: number; readAt: string } }
  | {
      type: 'chat:message_pinned';
      payload: { messageId: string; groupId: string; pinnedBy: number; pinnedAt: string; pinNote: string | null; message: ChatMessage };
    }
  | { type: 'chat:message_unpinned'; payload: { messageId: string; groupId: string; unpinnedBy: number } }
  | { type: 'chat:typing'; payload: { groupId: string; userId: number; username: string; isTyping: boolean } }
  | { type: 'chat:presence'; payload: { groupId: string; userId: number; status: PresenceStatus; lastSeen: string } };

/** Frames for one user wherever they are connected, whether or not their sockets joined the group. */
export type UserFrame = { type: 'chat:mention'; payload: { message: ChatMessage; groupId: string; mentionType: 'user' | 'everyone' } };

export type Broadcast =
  /** Send `frame` to every socket that joined `groupId`, through `forRecipient`; none of `excludeUserId`'s (a typist's own). */
  | { kind: 'group'; groupId: string; frame: GroupFrame; excludeUserId?: number }
  /** Send `frame` to every socket of `userId`; `groupId` names the key that seals it on the bus. */
  | { kind: 'user'; groupId: string; userId: number; frame: UserFrame }
  /** Control notices: a removed member's sockets must stop receiving the group at once. */
  | { kind: 'member_added' | 'member_removed'; groupId: string; userId: number };

interface Wire {
  groupId: string;
  /** base64 of the sealed JSON broadcast. */
  sealed: string;
}

const broadcastContext = (groupId: string) => `broadcast|${groupId}`;

/**
 * One bus message carries a whole batch of broadcasts, each sealed with its own group's key: a message per broadcast
 * would cost a round trip each, in the publisher and in every subscriber.
 */
export async function encodeBroadcasts(crypto: GroupEncryptionManager, broadcasts: Broadcast[]): Promise<string> {
  const wires = await Promise.all(
    broadcasts.map(async (broadcast): Promise<Wire> => {
      const { groupId } = broadcast;
      const sealed = await crypto.sealText(groupKeyScope(groupId), JSON.stringify(broadcast), broadcastContext(groupId));
      return { groupId, sealed: Buffer.from(sealed).toString('base64') };
    }),
  );
  return JSON.stringify(wires);
}

/**
 * The broadcasts of one bus message, in order. One that does not open — not sealed for the group it names, or its
 * group shredded since — goes to `onUndecodable` and the others still arrive.
 */
export async function decodeBroadcasts(crypto: GroupEncryptionManager, message: string, onUndecodable: (error: unknown) => void): Promise<Broadcast[]> {
  const wires = JSON.parse(message) as Wire[];
  const opened = await Promise.allSettled(
    wires.map(async ({ groupId, sealed }) => {
      const json = await crypto.openText(groupKeyScope(groupId), Buffer.from(sealed, 'base64'), broadcastContext(groupId));
      return JSON.parse(json) as Broadcast;
    }),
  );
  return opened.flatMap((result) => {
    if (result.status === 'fulfilled') return [result.value];
    onUndecodable(result.reason);
    return [];
  });
}

/** The frame as one recipient sees it: reaction summaries say whether that recipient is among the reactors. */
export function forRecipient(frame: GroupFrame, userId: number): GroupFrame {
  const own = (reactions: ReactionSummary[]) => reactions.map((r) => ({ ...r, hasReacted: r.users.some((u) => u.userId === userId) }));
  switch (frame.type) {
    case 'chat:reactions_updated':
      return { ...frame, payload: { ...frame.payload, reactions: own(frame.payload.reactions) } };
    case 'chat:message_pinned': {
      const { message } = frame.payload;
      return { ...frame, payload: { ...frame.payload, message: { ...message, reactions: own(message.reactions) } } };
    }
    default:
      return frame;
  }
}

/** Whether a frame's JSON is the same for every recipient, so the gateway can serialise it once. */
export const sameForEveryone = (frame: GroupFrame) => frame.type !== 'chat:reactions_updated' && frame.type !== 'chat:message_pinned';
