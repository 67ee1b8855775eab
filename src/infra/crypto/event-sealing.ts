/**
 * Domain events ⇄ sealed store events. The event body is JSON sealed with the stream's data key and bound to the
 * stream and event id; only the event type and non-secret metadata stay readable in the store.
 */
import type { NewEvent, RecordedEvent } from '../event-store/port.js';
import type { GroupEncryptionManager } from './group-encryption-manager.js';

export interface DomainEventShape {
  type: string;
  data: unknown;
}

const GROUP_STREAM_PREFIX = 'group-';

export const groupStreamId = (groupId: string) => `${GROUP_STREAM_PREFIX}${groupId}`;

export function groupIdOfStream(streamId: string): string | null {
  return streamId.startsWith(GROUP_STREAM_PREFIX) ? streamId.slice(GROUP_STREAM_PREFIX.length) : null;
}

/** The key scope protecting a stream: a group's own key for its stream, else one key per stream. */
export function keyScopeOfStream(streamId: string): string {
  const groupId = groupIdOfStream(streamId);
  return groupId ? groupKeyScope(groupId) : `stream:${streamId}`;
}

const GROUP_SCOPE_PREFIX = 'group:';

export const groupKeyScope = (groupId: string) => `${GROUP_SCOPE_PREFIX}${groupId}`;

/** The group a key scope belongs to, or null for a scope of another kind. */
export function groupOfKeyScope(scope: string): string | null {
  return scope.startsWith(GROUP_SCOPE_PREFIX) ? scope.slice(GROUP_SCOPE_PREFIX.length) : null;
}

const eventContext = (streamId: string, eventId: string) => `event|${streamId}|${eventId}`;

export async function sealEvent(
  crypto: GroupEncryptionManager,
  streamId: string,
  eventId: string,
  event: DomainEventShape,
  metadata: Record<string, unknown>,
): Promise<NewEvent> {
  const data = await crypto.seal(keyScopeOfStream(streamId), Buffer.from(JSON.stringify(event.data)), eventContext(streamId, eventId));
  return { id: eventId, type: event.type, data, metadata };
}

export async function openEvent<E extends DomainEventShape>(crypto: GroupEncryptionManager, recorded: RecordedEvent): Promise<E> {
  const plain = await crypto.open(keyScopeOfStream(recorded.streamId), recorded.data, eventContext(recorded.streamId, recorded.id));
  return { type: recorded.type, data: JSON.parse(Buffer.from(plain).toString('utf8')) } as E;
}
