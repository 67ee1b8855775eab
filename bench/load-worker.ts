/**
 * One load-generator process: real `ws` clients speaking the guide's protocol. A message's content carries the
 * phase, the send time (this process's clock, which its receivers share), the sending socket and its sequence
 * number, so each receiving socket measures latency, loss and order on its own. Never imported; forked by load.ts.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { inLanes } from './lanes.js';
import type { PhaseResult, SocketPlan, WorkerCommand, WorkerReply } from './load.js';

const OPEN_CONCURRENCY = 50;
const TICK_MS = 5;

interface Client {
  index: number;
  ws: WebSocket;
  groupId?: string;
  /** Sends of the current phase. */
  sent: number;
  /** Per sending socket: the sequence numbers received this phase. */
  received: Map<number, Set<number>>;
  lastSeq: Map<number, number>;
}

const now = () => performance.timeOrigin + performance.now();
const reply = (message: WorkerReply) => process.send!(message);

let clients: Client[] = [];
let phase = -1;
let counts = { refused: 0, reordered: 0, delivered: 0, deliveredBytes: 0, lastDeliveryAt: 0 };
let latencies: number[] = [];

function onFrame(client: Client, raw: WebSocket.RawData): void {
  const frame = JSON.parse(String(raw)) as { type: string; requestId?: string; payload?: { message?: { content?: string } } };
  if (frame.type === 'error' && frame.requestId) counts.refused++;
  if (frame.type !== 'chat:message') return;
  const [tag, sentAt, sender, seq] = (frame.payload?.message?.content ?? '').split('|').map(Number) as [number, number, number, number];
  if (tag !== phase) return;
  const at = now();
  latencies.push(at - sentAt);
  counts.deliveredBytes += (raw as Buffer).length;
  counts.lastDeliveryAt = at;
  const seen = client.received.get(sender) ?? new Set<number>();
  client.received.set(sender, seen);
  if (seq <= (client.lastSeq.get(sender) ?? -1)) counts.reordered++;
  else client.lastSeq.set(sender, seq);
  if (!seen.has(seq)) counts.delivered++;
  seen.add(seq);
}

async function openClient(wsUrl: string, plan: SocketPlan, index: number): Promise<Client> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(plan.token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client: Client = { index, ws, groupId: plan.groupId, sent: 0, received: new Map(), lastSeq: new Map() };
  ws.on('message', (raw) => onFrame(client, raw));
  if (plan.groupId) {
    // Frames are handled in order, so the pong means the join has been handled.
    const pong = new Promise<void>((resolve) => {
      const listener = (raw: WebSocket.RawData) => {
        if (!String(raw).includes('"pong"')) return;
        ws.off('message', listener);
        resolve();
      };
      ws.on('message', listener);
    });
    ws.send(JSON.stringify({ type: 'chat:join_group', payload: { groupId: plan.groupId } }));
    ws.send(JSON.stringify({ type: 'ping', requestId: `join-${index}` }));
    await pong;
  }
  return client;
}

async function run(command: Extract<WorkerCommand, { cmd: 'run' }>): Promise<PhaseResult> {
  phase = command.phase;
  counts = { refused: 0, reordered: 0, delivered: 0, deliveredBytes: 0, lastDeliveryAt: 0 };
  latencies = [];
  const groups = new Map<string, Client[]>();
  for (const client of clients) {
    client.sent = 0;
    client.received.clear();
    client.lastSeq.clear();
    if (client.groupId) groups.set(client.groupId, [...(groups.get(client.groupId) ?? []), client]);
  }
  const rooms = [...groups.values()];
  const padding = 'x'.repeat(command.contentChars);
  let sent = 0;
  let expected = 0;
  const start = now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = now() - start;
      const due = Math.min(Math.floor((command.rate * Math.min(elapsed, command.durationMs)) / 1000), sent + Math.ceil(command.rate / 10));
      for (; sent < due; sent++) {
        const room = rooms[sent % rooms.length]!;
        const sender = room[Math.floor(sent / rooms.length) % room.length]!;
        const content = `${phase}|${now()}|${sender.index}|${sender.sent++}|${padding}`.slice(0, Math.max(command.contentChars, 40));
        sender.ws.send(JSON.stringify({ type: 'chat:send_message', payload: { groupId: sender.groupId, content }, requestId: `s${phase}-${sent}` }));
        expected += room.length;
      }
      if (elapsed >= command.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const drainUntil = now() + command.drainMs;
  while (counts.delivered < expected && now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  return {
    sent,
    refused: counts.refused,
    expected,
    delivered: counts.delivered,
    lost: expected - counts.delivered,
    reordered: counts.reordered,
    deliveredBytes: counts.deliveredBytes,
    windowMs: (counts.lastDeliveryAt || now()) - start,
    latenciesMs: latencies,
  };
}

process.on('message', (command: WorkerCommand) => {
  const handle = async (): Promise<WorkerReply> => {
    if (command.cmd === 'open') {
      clients = await inLanes(command.sockets, OPEN_CONCURRENCY, (plan, i) => openClient(command.wsUrl, plan, i));
      return { kind: 'opened' };
    }
    if (command.cmd === 'run') return { kind: 'ran', result: await run(command) };
    for (const client of clients) client.ws.terminate();
    return { kind: 'closed' };
  };
  handle().then(
    (message) => {
      reply(message);
      if (message.kind === 'closed') process.disconnect();
    },
    (error: unknown) => reply({ kind: 'failed', error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
