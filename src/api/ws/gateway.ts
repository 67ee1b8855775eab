/**
 * The guide's one WebSocket, /mirror/groups/chat?token=…. Frames of one connection are handled one at a time, in
 * order. Broadcasts come from the bus (published by whichever process runs the projector, after its commit) and go
 * to this process's sockets that joined the group.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { DomainError } from '../../domain/errors.js';
import { BROADCAST_CHANNEL, decodeBroadcasts, forRecipient, sameForEveryone } from '../../projections/broadcasts.js';
import type { AuthUser } from '../auth/tokens.js';
import type { ApiDeps } from '../deps.js';
import { toErrorBody } from '../errors.js';
import { requireMember } from '../routes/access.js';
import { markRead } from '../routes/reads.js';
import { sendMessage } from '../routes/send-message.js';
import { parseInput } from '../validation.js';
import { clientFrameSchema, knownFrameTypes, requestIdOf, type ClientFrame } from './frames.js';
import { Rooms, type ChatClient } from './rooms.js';

export const CLOSE_UNAUTHORIZED = 4001;
/** setTimeout's limit; a token living longer is re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function chatGateway(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const rooms = new Rooms();

  const unsubscribe = await deps.bus.subscribe(BROADCAST_CHANNEL, (raw) => {
    const undecodable = (error: unknown) => deps.logger.error({ err: error }, 'undecodable broadcast');
    decodeBroadcasts(deps.read.crypto, raw, undecodable).then((broadcasts) => {
      for (const broadcast of broadcasts) {
        if (broadcast.kind === 'group') {
          const shared = sameForEveryone(broadcast.frame) ? JSON.stringify(broadcast.frame) : null;
          for (const client of rooms.membersOf(broadcast.groupId)) {
            if (client.userId === broadcast.excludeUserId) continue;
            client.send(shared ?? JSON.stringify(forRecipient(broadcast.frame, client.userId)));
          }
        } else if (broadcast.kind === 'user') {
          const frame = JSON.stringify(broadcast.frame);
          for (const client of rooms.clientsOf(broadcast.userId)) client.send(frame);
        } else if (broadcast.kind === 'member_removed') {
          for (const client of rooms.clientsOf(broadcast.userId)) {
            if (!client.joined.has(broadcast.groupId)) continue;
            rooms.leave(client, broadcast.groupId);
            client.send(errorFrame(new DomainError('FORBIDDEN', 'You were removed from this group'), undefined, broadcast.groupId));
          }
        }
      }
    }, undecodable);
  });
  app.addHook('onClose', async () => unsubscribe());

  app.get('/mirror/groups/chat', { websocket: true }, (socket: WebSocket, request: FastifyRequest) => {
    const token = (request.query as { token?: unknown }).token;
    let client: ChatClient | undefined;
    let connectionId: string | undefined;
    let expiry: NodeJS.Timeout | undefined;
    // Frames that arrive while the token is being checked wait behind it.
    let queue: Promise<unknown> = deps.tokens.verify(typeof token === 'string' ? token : '').then(
      (user) => {
        // Closed while the token was checked: its close handler has run, so nothing registered now would be undone.
        if (socket.readyState !== socket.OPEN) return undefined;
        client = { userId: user.id, joined: new Set(), send: (frame) => socket.readyState === socket.OPEN && socket.send(frame) };
        rooms.connect(client);
        connectionId = deps.presence.connected(user.id);
        armExpiry(user.exp);
        return user;
      },
      () => socket.close(CLOSE_UNAUTHORIZED, 'Invalid or expired token'),
    );

    function armExpiry(exp: number) {
      const left = exp * 1000 - Date.now();
      expiry = setTimeout(() => (left > MAX_TIMER_MS ? armExpiry(exp) : socket.close(CLOSE_UNAUTHORIZED, 'Token expired')), Math.min(left, MAX_TIMER_MS));
    }

    socket.on('message', (data, isBinary) => {
      queue = queue.then(async (user) => {
        if (!client || !user) return user;
        const raw = isBinary ? null : data.toString();
        await handleRaw(raw, client, user as AuthUser);
        return user;
      });
    });

    socket.on('close', () => {
      clearTimeout(expiry);
      if (client) rooms.disconnect(client);
      if (connectionId) deps.presence.disconnected(connectionId);
    });
  });

  async function handleRaw(raw: string | null, client: ChatClient, user: AuthUser): Promise<void> {
    let parsed: unknown;
    try {
      parsed = raw === null ? null : JSON.parse(raw);
    } catch {
      client.send(errorFrame(DomainError.validation([{ field: 'frame', message: 'must be JSON' }], 'Frames must be JSON text')));
      return;
    }
    const requestId = requestIdOf(parsed);
    try {
      const type = (parsed as { type?: unknown } | null)?.type;
      if (typeof type !== 'string' || !knownFrameTypes.includes(type as ClientFrame['type'])) {
        throw DomainError.validation([{ field: 'type', message: `must be one of ${knownFrameTypes.join(', ')}` }], 'Unknown message type');
      }
      await handleFrame(parseInput(clientFrameSchema, parsed, 'payload'), client, user);
    } catch (error) {
      if (toErrorBody(error).unexpected) deps.logger.error({ err: error }, 'websocket frame failed');
      client.send(errorFrame(error, requestId));
    }
  }

  async function handleFrame(frame: ClientFrame, client: ChatClient, user: AuthUser): Promise<void> {
    switch (frame.type) {
      case 'ping':
        client.send(JSON.stringify({ type: 'pong', payload: { timestamp: Date.now() }, ...(frame.requestId ? { requestId: frame.requestId } : {}) }));
        return;
      case 'chat:join_group': {
        const { groupId } = frame.payload;
        await requireMember(deps.read, groupId, user.id);
        rooms.join(client, groupId);
        // A removal broadcast may have passed between the check and the join: look once more, now that we listen.
        await requireMember(deps.read, groupId, user.id).catch((error: unknown) => {
          rooms.leave(client, groupId);
          throw error;
        });
        return;
      }
      case 'chat:leave_group':
        rooms.leave(client, frame.payload.groupId);
        return;
      case 'chat:send_message': {
        const { groupId, ...fields } = frame.payload;
        const { message } = await sendMessage(deps, user, { groupId, ...fields });
        client.send(JSON.stringify({ type: 'chat:message_sent', payload: { message, groupId }, requestId: frame.requestId }));
        return;
      }
      case 'chat:typing_start':
        await deps.typing.start(frame.payload.groupId, user);
        return;
      case 'chat:typing_stop':
        await deps.typing.stop(frame.payload.groupId, user);
        return;
      case 'chat:presence_update':
        await deps.presence.setStatus(frame.payload.groupId, user.id, frame.payload.status);
        return;
      case 'chat:mark_read':
        await markRead(deps, { groupId: frame.payload.groupId, userId: user.id, messageIds: frame.payload.messageIds });
        return;
    }
  }
}

/** The guide's `error` frame; the requestId also stands at the top level, like every other answer's. */
function errorFrame(error: unknown, requestId?: string, groupId?: string): string {
  const { body } = toErrorBody(error);
  return JSON.stringify({
    type: 'error',
    payload: { ...body, ...(groupId ? { groupId } : {}), ...(requestId ? { requestId } : {}) },
    ...(requestId ? { requestId } : {}),
  });
}
