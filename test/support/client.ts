/** What a client app does: REST calls with a bearer token, and a WebSocket whose frames can be awaited. */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

/** Bodies stay untyped: the tests check their shape against the guide, field by field. */
export interface ApiAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
  }

  get = (path: string) => this.call('GET', path);
  post = (path: string, body?: unknown) => this.call('POST', path, body ?? {});
  put = (path: string, body?: unknown) => this.call('PUT', path, body ?? {});
  delete = (path: string) => this.call('DELETE', path);
}

export interface TestUser {
  id: number;
  username: string;
  token: string;
  api: RestClient;
}

export async function registerUser(baseUrl: string, name = 'user'): Promise<TestUser> {
  const username = `${name}_${randomBytes(4).toString('hex')}`;
  const api = new RestClient(baseUrl);
  const { status, body } = await api.post('/mirror/api/auth/register', { username, email: `${username}@example.test`, password: 'correct horse battery' });
  if (status !== 201) throw new Error(`register failed: ${status} ${JSON.stringify(body)}`);
  api.token = body.data.token;
  return { id: body.data.user.id, username, token: body.data.token, api };
}

/** A group owned by `owner` with `members` added. */
export async function groupWith(owner: TestUser, members: TestUser[] = [], name = 'Team'): Promise<string> {
  const created = await owner.api.post('/mirror/api/groups', { name });
  if (created.status !== 201) throw new Error(`create group failed: ${JSON.stringify(created.body)}`);
  const groupId = created.body.data.group.id as string;
  for (const m of members) {
    const added = await owner.api.post(`/mirror/api/groups/${groupId}/members`, { userId: m.id });
    if (added.status !== 201) throw new Error(`add member failed: ${JSON.stringify(added.body)}`);
  }
  return groupId;
}

export interface Frame {
  type: string;
  payload?: any;
  requestId?: string;
}

export class ChatSocket {
  readonly frames: Frame[] = [];
  closed?: { code: number; reason: string };
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  /** The token goes in `?token=`, or with `protocol` as the subprotocols ['bearer', token]. */
  static async open(wsUrl: string, token: string, options: { protocol?: boolean; origin?: string } = {}): Promise<ChatSocket> {
    const ws = options.protocol
      ? new WebSocket(wsUrl, ['bearer', token], { origin: options.origin })
      : new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, { origin: options.origin });
    const socket = new ChatSocket(ws);
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('error', reject);
    });
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (counting those already received) that matches, or a timeout error naming what came. */
  async next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new Error(`no matching frame; got ${JSON.stringify(this.frames.map((f) => f.type))}, closed ${JSON.stringify(this.closed)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  nextOfType = (type: string, timeoutMs?: number) => this.next((f) => f.type === type, timeoutMs);

  /** Frames are handled in order, so a pong means every earlier frame has been handled. */
  async settle(timeoutMs?: number): Promise<void> {
    const requestId = randomBytes(4).toString('hex');
    this.send({ type: 'ping', requestId });
    await this.next((f) => f.type === 'pong' && f.requestId === requestId, timeoutMs);
  }

  async join(groupId: string): Promise<void> {
    this.send({ type: 'chat:join_group', payload: { groupId } });
    await this.settle();
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise<void>((r) => this.waiters.push(r) && setTimeout(r, 50));
    if (!this.closed) throw new Error('socket did not close');
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
