/**
 * The baseline: a bare `ws` broadcast server with rooms and nothing else (no auth check, no storage, no encryption,
 * no bus). It speaks the subset of the guide's protocol the load generator uses and sends frames of the same shape
 * and size, so the ratio of a figure to its baseline is what the chat backend costs on top of moving the bytes.
 * GET /messages answers a canned page of the same size as the real one. Run as its own process; prints its URL.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ChatMessage } from '../src/projections/queries/chat-message.js';

const rooms = new Map<string, Set<WebSocket>>();
const userIds = new Map<string, number>();

function messageOf(groupId: string, senderUserId: number, content: string, clientMessageId: string | null): ChatMessage {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    groupId,
    senderUserId,
    // As long as the load generator's registered names (bench_ and 8 hex digits), so frames match in size.
    senderUsername: `bench_${String(senderUserId).padStart(8, '0')}`,
    content,
    contentType: 'text',
    parentMessageId: null,
    threadRootId: null,
    threadReplyCount: 0,
    metadata: {},
    status: 'sent',
    isEdited: false,
    editedAt: null,
    isDeleted: false,
    deletedAt: null,
    encryptionKeyId: null,
    clientMessageId,
    createdAt: at,
    updatedAt: at,
    reactions: [],
    readBy: [],
  };
}

const page = (limit: number, contentChars: number) =>
  JSON.stringify({
    success: true,
    data: { messages: Array.from({ length: limit }, () => messageOf(randomUUID(), 1, 'x'.repeat(contentChars), null)), pagination: { hasMore: true, nextCursor: randomUUID(), prevCursor: randomUUID() } },
  });

const http = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://baseline');
  if (url.pathname !== '/messages') return void response.writeHead(404).end();
  response.writeHead(200, { 'content-type': 'application/json' }).end(page(Number(url.searchParams.get('limit') ?? 50), Number(url.searchParams.get('contentChars') ?? 100)));
});

new WebSocketServer({ server: http }).on('connection', (socket, request) => {
  const token = new URL(request.url ?? '/', 'http://baseline').searchParams.get('token') ?? '';
  const userId = userIds.get(token) ?? userIds.size + 1;
  userIds.set(token, userId);
  const joined = new Set<string>();
  socket.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as { type: string; requestId?: string; payload?: { groupId?: string; content?: string } };
    const groupId = frame.payload?.groupId ?? '';
    if (frame.type === 'ping') socket.send(JSON.stringify({ type: 'pong', requestId: frame.requestId }));
    else if (frame.type === 'chat:join_group') {
      rooms.set(groupId, (rooms.get(groupId) ?? new Set()).add(socket));
      joined.add(groupId);
    } else if (frame.type === 'chat:send_message') {
      const message = messageOf(groupId, userId, frame.payload?.content ?? '', null);
      socket.send(JSON.stringify({ type: 'chat:message_sent', payload: { message, groupId }, requestId: frame.requestId }));
      const shared = JSON.stringify({ type: 'chat:message', payload: { message, groupId } });
      for (const member of rooms.get(groupId) ?? []) member.send(shared);
    }
  });
  socket.on('close', () => {
    for (const groupId of joined) rooms.get(groupId)?.delete(socket);
  });
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }));
});
