/**
 * What the projector tells WS gateways after each commit, on one bus channel so that every gateway sees the
 * broadcasts in global log order. Frames carry message text, so each broadcast crosses the bus sealed with its
 * group's key; only the group id travels in clear, to name the key.
 */
import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import { groupKeyScope } from '../infra/crypto/event-sealing.js';
import type { ChatMessage } from './queries/chat-message.js';

export const BROADCAST_CHANNEL = 'chat:broadcasts';

/** The guide's server → client frames (section "Server → Client Messages") that follow from projected events. */
export type GroupFrame =
  | { type: 'chat:message'; payload: { message: ChatMessage; groupId: string } }
  | {
      type: 'chat:message_edited';
      payload: { messageId: string; groupId: string; content: string; editedAt: string; editedBy: number };
    }
  | { type: 'chat:message_deleted'; payload: { messageId: string; groupId: string; deletedBy: number } };

export type Broadcast =
  /** Send `frame` as is to every socket that joined `groupId`. */
  | { kind: 'group'; groupId: string; frame: GroupFrame }
  /** Control notices: a removed member's sockets must stop receiving the group at once. */
  | { kind: 'member_added' | 'member_removed'; groupId: string; userId: number };

interface Wire {
  groupId: string;
  /** base64 of the sealed JSON broadcast. */
  sealed: string;
}

const broadcastContext = (groupId: string) => `broadcast|${groupId}`;

export async function encodeBroadcast(crypto: GroupEncryptionManager, broadcast: Broadcast): Promise<string> {
  const { groupId } = broadcast;
  const sealed = await crypto.sealText(groupKeyScope(groupId), JSON.stringify(broadcast), broadcastContext(groupId));
  const wire: Wire = { groupId, sealed: Buffer.from(sealed).toString('base64') };
  return JSON.stringify(wire);
}

/** Rejects what was not sealed for the group it names (the key context binds the two). */
export async function decodeBroadcast(crypto: GroupEncryptionManager, message: string): Promise<Broadcast> {
  const { groupId, sealed } = JSON.parse(message) as Wire;
  const json = await crypto.openText(groupKeyScope(groupId), Buffer.from(sealed, 'base64'), broadcastContext(groupId));
  return JSON.parse(json) as Broadcast;
}
