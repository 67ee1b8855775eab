/**
 * The guide's one WebSocket, /mirror/groups/chat. Frames of one connection are handled one at a time, in order.
 * Broadcasts come from the bus (published by whichever process runs the projector, after its commit) and go to this
 * process's sockets that joined the group.
 *
 * The edge it keeps (README, "The WebSocket's edge"): browsers from origins outside CORS_ORIGINS are refused at the
 * upgrade; the token comes in `?token=` or as the subprotocols `['bearer', token]`; every frame counts against the
 * user's frame limit when it arrives; a socket that does not read what it is sent is closed before its backlog grows
 * past `wsMaxBufferedBytes`; the token's expiry closes the socket; on shutdown, frames already received are finished
 * before the sockets close with 1001.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { SHREDDED } from '../../commands/stream-processor.js';
import { DomainError } from '../../domain/errors.js';
import { groupOfKeyScope } from '../../infra/crypto/event-sealing.js';
import { KEYS_CHANGED_CHANNEL } from '../../infra/crypto/group-encryption-manager.js';
import { BROADCAST_CHANNEL, decodeBroadcasts, forRecipient, sameForEveryone } from '../../projections/broadcasts.js';
import type { AuthUser } from '../auth/tokens.js';
import type { ApiDeps } from '../deps.js';
import { toErrorBody } from '../errors.js';
import type { LimitDecision, LimitName } from '../rate-limits.js';
import { requireMember } from '../routes/access.js';
import { markRead } from '../routes/reads.js';
import { sendMessage } from '../routes/send-message.js';
import { parseInput } from '../validation.js';
import { clientFrameSchema, knownFrameTypes, requestIdOf, type ClientFrame } from './frames.js';
import { holdLive, passes, replayMissed } from './resume.js';
import { Rooms, type ChatClient } from './rooms.js';

export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNAUTHORIZED = 4001;
/** The socket's frames not yet sent passed the bound: its reader is too slow to keep up. */
export const CLOSE_TOO_SLOW = 4008;
/** Offered with the token as `new WebSocket(url, ['bearer', token])`; the server answers with this one alone. */
export const BEARER_PROTOCOL = 'bearer';
/** setTimeout's limit; a token living longer is re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const SHUTTING_DOWN = new DomainError('SERVER_ERROR', 'The server is shutting down; reconnect and send this again');

/** The subprotocol to answer a handshake with (ws's `handleProtocols`): never the token itself. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(BEARER_PROTOCOL) ? BEARER_PROTOCOL : false;
}

function tokenOf(request: FastifyRequest): string {
  const query = (request.query as { token?: unknown }).token;
  if (typeof query === 'string') return query;
  const offered = request.headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()) ?? [];
  return offered.includes(BEARER_PROTOCOL) ? (offered.find((p) => p !== BEARER_PROTOCOL) ?? '') : '';
}

export async function chatGateway(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const rooms = new Rooms();
  /** Each open socket, and what settles once every frame it has sent so far is handled. */
  const connections = new Map<WebSocket, () => Promise<void>>();
  /** Broadcasts heard but not yet written to the sockets. */
  const deliveries = new Set<Promise<void>>();
  let draining = false;

  const unsubscribe = await deps.bus.subscribe(BROADCAST_CHANNEL, (raw) => {
    const undecodable = (error: unknown) => deps.logger.error({ err: error }, 'undecodable broadcast');
    const delivery = decodeBroadcasts(deps.read.crypto, raw, undecodable).then((broadcasts) => {
      for (const broadcast of broadcasts) {
        if (broadcast.kind === 'group') {
          const shared = sameForEveryone(broadcast.frame) ? JSON.stringify(broadcast.frame) : null;
          for (const client of rooms.membersOf(broadcast.groupId)) {
            if (client.userId === broadcast.excludeUserId) continue;
            if (!passes(client.resumes.get(broadcast.groupId), broadcast.frame)) continue;
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
    deliveries.add(delivery);
    void delivery.then(() => deliveries.delete(delivery));
  });
  app.addHook('onClose', async () => unsubscribe());

  // `mirror-chat keys shred` ran beside this server: the group's sockets are told, as a removed member is, and leave it.
  const unsubscribeKeys = await deps.bus.subscribe(KEYS_CHANGED_CHANNEL, (scope) => {
    const groupId = groupOfKeyScope(scope);
    if (groupId === null) return;
    deps.read.crypto.isShredded(scope).then(
      (shredded) => {
        if (!shredded) return;
        for (const client of [...rooms.membersOf(groupId)]) {
          rooms.leave(client, groupId);
          client.send(errorFrame(new DomainError('NOT_FOUND', SHREDDED), undefined, groupId));
        }
      },
      (err: unknown) => deps.logger.warn({ err, groupId }, 'could not tell whether a group was shredded'),
    );
  });
  app.addHook('onClose', async () => unsubscribeKeys());

  // Shutdown: fastify already answers new requests and upgrades 503. Frames received before now are finished (their
  // commands waited for the projector, so their answers and broadcasts are out), and then the sockets close.
  app.addHook('preClose', async () => {
    draining = true;
    await Promise.all([...connections.values()].map((handled) => handled()));
    await Promise.all(deliveries);
    for (const socket of connections.keys()) socket.close(CLOSE_GOING_AWAY, 'Server shutting down');
  });

  /** A missing Origin is a client that is not a browser, which no origin check protects. */
  const originAllowed = (origin: string | undefined) => origin === undefined || deps.allowedOrigins.length === 0 || deps.allowedOrigins.includes(origin);

  const onRequest = async (request: FastifyRequest) => {
    if (!originAllowed(request.headers.origin)) throw new DomainError('FORBIDDEN', 'This origin may not open the chat socket');
  };

  app.get('/mirror/groups/chat', { websocket: true, onRequest }, (socket: WebSocket, request: FastifyRequest) => {
    let client: ChatClient | undefined;
    let connectionId: string | undefined;
    let expiry: NodeJS.Timeout | undefined;
    // Frames that arrive while the token is being checked wait behind it.
    const authenticated = deps.tokens.verify(tokenOf(request)).then(
      (user): AuthUser | undefined => {
        // Closed while the token was checked: its close handler has run, so nothing registered now would be undone.
        if (socket.readyState !== socket.OPEN) return undefined;
        client = { userId: user.id, joined: new Set(), resumes: new Map(), send: (frame) => sendOrDrop(socket, frame, user.id) };
        rooms.connect(client);
        connectionId = deps.presence.connected(user.id);
        armExpiry(user.exp);
        return user;
      },
      () => {
        socket.close(CLOSE_UNAUTHORIZED, 'Invalid or expired token');
        return undefined;
      },
    );
    // Offline delivery (api/delivery.ts): what was queued while the user had no connection goes out before any answer.
    let queue: Promise<unknown> = authenticated.then((user) => user && deliverPending(socket, client!, user.id));
    connections.set(socket, async () => {
      for (let seen = queue; ; seen = queue) {
        await seen.catch(() => {});
        if (seen === queue) return;
      }
    });

    function armExpiry(exp: number) {
      const left = exp * 1000 - Date.now();
      expiry = setTimeout(() => (left > MAX_TIMER_MS ? armExpiry(exp) : socket.close(CLOSE_UNAUTHORIZED, 'Token expired')), Math.min(left, MAX_TIMER_MS));
    }

    socket.on('message', (data, isBinary) => {
      // Counted as it arrives rather than when its turn comes, so that a slow command does not let a burst through.
      // A frame that arrives once shutdown has begun is not handled (nor counted).
      const decision = draining ? null : authenticated.then((user) => (user ? deps.rateLimits.take('wsFrames', user.id) : null));
      // Awaited in its turn, maybe much later: until then its failure must not count as unhandled.
      decision?.catch(() => {});
      queue = queue.then(async () => {
        const user = await authenticated;
        if (!client || !user) return;
        const raw = isBinary ? null : data.toString();
        if (decision) await handleRaw(raw, client, user, decision);
        else client.send(errorFrame(SHUTTING_DOWN, requestIdOf(parseJson(raw))));
      });
    });

    socket.on('close', () => {
      connections.delete(socket);
      clearTimeout(expiry);
      if (client) rooms.disconnect(client);
      if (connectionId) deps.presence.disconnected(connectionId);
    });
  });

  function deliverPending(socket: WebSocket, client: ChatClient, userId: number): Promise<void> {
    const send = (frame: string) => (client.send(frame), socket.readyState === socket.OPEN);
    return deps.delivery.deliverPending(userId, send).catch((err: unknown) => deps.logger.error({ err, userId }, 'offline delivery on connect failed'));
  }

  /** Frames a socket is sent wait in its buffer while its reader is slow; past the bound it is closed instead. */
  function sendOrDrop(socket: WebSocket, frame: string, userId: number): void {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > deps.wsMaxBufferedBytes) {
      deps.logger.warn({ userId, bufferedBytes: socket.bufferedAmount }, 'websocket reader too slow; closing its socket');
      // The close frame queues behind the backlog; ws destroys the socket if the close is not answered in 30 s.
      socket.close(CLOSE_TOO_SLOW, 'Too slow to keep up');
      return;
    }
    socket.send(frame);
  }

  const refuseOver = (name: LimitName, decision: LimitDecision) => {
    if (!decision.allowed) throw deps.rateLimits.refusal(name, decision);
  };

  async function handleRaw(raw: string | null, client: ChatClient, user: AuthUser, decision: Promise<LimitDecision | null>): Promise<void> {
    const parsed = parseJson(raw);
    const requestId = requestIdOf(parsed);
    try {
      const limit = await decision;
      if (limit) refuseOver('wsFrames', limit);
      if (parsed === undefined) throw DomainError.validation([{ field: 'frame', message: 'must be JSON' }], 'Frames must be JSON text');
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

  // Membership is read afresh for every group frame (by the command's decision, or requireMember), never cached on
  // the socket: a member removed mid-connection is refused from their next frame on.
  async function handleFrame(frame: ClientFrame, client: ChatClient, user: AuthUser): Promise<void> {
    switch (frame.type) {
      case 'ping':
        client.send(JSON.stringify({ type: 'pong', payload: { timestamp: Date.now() }, ...(frame.requestId ? { requestId: frame.requestId } : {}) }));
        return;
      case 'chat:join_group': {
        const { groupId, lastMessageId } = frame.payload;
        await requireMember(deps.read, groupId, user.id);
        const gate = lastMessageId === undefined ? undefined : holdLive(client, groupId);
        rooms.join(client, groupId);
        try {
          // A removal broadcast may have passed between the check and the join: look once more, now that we listen.
          await requireMember(deps.read, groupId, user.id);
          if (gate) await replayMissed(deps, client, gate, groupId, lastMessageId!, frame.requestId);
        } catch (error) {
          rooms.leave(client, groupId);
          throw error;
        }
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
        refuseOver('typingStarts', await deps.rateLimits.take('typingStarts', user.id));
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

/** The frame as JSON; undefined when it is not JSON text. */
function parseJson(raw: string | null): unknown {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
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
