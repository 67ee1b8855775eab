/**
 * G groups of M members on the chat server, and the same rooms on the baseline. M users are each a member of every
 * group and hold one socket per group, joined to that group only: each group still has M members and each socket
 * receives exactly its group's messages, while set-up registers M users instead of G × M (each registration is
 * a deliberately slow password hash).
 */
import { groupWith, registerUser } from '../test/support/client.js';
import { inLanes } from './lanes.js';
import type { SocketPlan } from './load.js';

export interface Population {
  server: SocketPlan[];
  baseline: SocketPlan[];
}

const SETUP_LANES = 4;

export async function populate(baseUrl: string, groups: number, members: number): Promise<Population> {
  const users = await inLanes(Array.from({ length: members }), SETUP_LANES, () => registerUser(baseUrl, 'bench'));
  const [owner, ...others] = users;
  const groupIds = await inLanes(Array.from({ length: groups }), SETUP_LANES, (_, g) => groupWith(owner!, others, `Bench ${g}`));
  return {
    server: groupIds.flatMap((groupId) => users.map((user) => ({ token: user.token, groupId }))),
    baseline: groupIds.flatMap((groupId) => users.map((_, m) => ({ token: `user-${m}`, groupId }))),
  };
}
