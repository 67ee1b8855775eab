/** Every REST route of src/api/routes/*.ts with a valid request for it: what the hostile-input suites start from. */

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With `:groupId`, `:messageId`, `:userId` and `:emoji` where the route has them. */
  path: string;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** Answered without a token. */
  anonymous?: boolean;
}

export interface RouteFixture {
  /** A message of the group, sent by the caller, with a reply of someone else's. */
  rootMessageId: string;
  replyId: string;
  /** Another user, to add to the group and to mention. */
  other: { id: number; username: string };
}

export function apiRoutes({ rootMessageId, replyId, other }: RouteFixture): Route[] {
  const chat = '/mirror/api/groups/:groupId/chat';
  const message = `${chat}/messages/:messageId`;
  const page = { cursor: rootMessageId, limit: '10', direction: 'after' };
  const threadPage = { ...page, cursor: replyId, direction: 'before' };
  return [
    { method: 'GET', path: '/health', anonymous: true },
    { method: 'GET', path: '/ready', anonymous: true },
    { method: 'GET', path: '/metrics', anonymous: true },
    { method: 'POST', path: '/mirror/api/auth/register', anonymous: true, body: { username: 'fuzzy_user', email: 'fuzzy@example.test', password: 'long enough pass' } },
    { method: 'POST', path: '/mirror/api/auth/login', anonymous: true, body: { username: 'fuzzy_user', password: 'long enough pass' } },
    { method: 'POST', path: '/mirror/api/groups', body: { name: 'Fuzzed' } },
    { method: 'GET', path: '/mirror/api/groups' },
    { method: 'GET', path: '/mirror/api/groups/:groupId' },
    { method: 'POST', path: '/mirror/api/groups/:groupId/members', body: { userId: other.id, role: 'member' } },
    { method: 'DELETE', path: '/mirror/api/groups/:groupId/members/:userId' },
    { method: 'GET', path: `${chat}/messages`, query: page },
    {
      method: 'POST',
      path: `${chat}/messages`,
      body: {
        content: `hello @${other.username}`,
        contentType: 'text',
        parentMessageId: rootMessageId,
        clientMessageId: 'route-1',
        metadata: {
          mentions: [{ userId: other.id, username: other.username, startIndex: 6, endIndex: 7 + other.username.length, type: 'user' }],
          links: [{ url: 'https://example.test/', startIndex: 0, endIndex: 5 }],
          formatting: { bold: [[0, 5]], links: [[0, 5, 'https://example.test/']] },
          custom: { theme: 'dark' },
        },
      },
    },
    { method: 'PUT', path: message, body: { content: 'edited' } },
    { method: 'DELETE', path: message },
    { method: 'POST', path: `${message}/reactions`, body: { emoji: '👍' } },
    { method: 'DELETE', path: `${message}/reactions/:emoji` },
    { method: 'GET', path: `${chat}/pinned` },
    { method: 'POST', path: `${message}/pin`, body: { note: 'important' } },
    { method: 'DELETE', path: `${message}/pin` },
    { method: 'GET', path: `${message}/thread`, query: threadPage },
    { method: 'POST', path: `${chat}/messages/read`, body: { messageIds: [replyId] } },
    { method: 'GET', path: `${chat}/unread-count` },
    { method: 'GET', path: `${chat}/search`, query: { q: 'hello', limit: '5', sort: 'newest', cursor: 'n10' } },
    { method: 'POST', path: `${chat}/typing/start`, body: {} },
    { method: 'POST', path: `${chat}/typing/stop`, body: {} },
    { method: 'PUT', path: `${chat}/presence`, body: { status: 'away' } },
    { method: 'GET', path: `${chat}/presence` },
    { method: 'GET', path: `${chat}/preferences` },
    { method: 'PUT', path: `${chat}/preferences`, body: { muted: true, notifyLevel: 'mentions' } },
  ];
}

/** The route's path with its parameters filled in (escaped). */
export function routePath(route: Route, params: Record<string, string | number>): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    if (params[name] === undefined) throw new Error(`no value for :${name} in ${route.path}`);
    return encodeURIComponent(String(params[name]));
  });
}

export const queryOf = (query: Record<string, string> | undefined) => (query ? `?${new URLSearchParams(query)}` : '');
