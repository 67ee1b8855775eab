import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import type { PubSub } from '../infra/pubsub/port.js';
import { BROADCAST_CHANNEL, encodeBroadcasts, type Broadcast } from '../projections/broadcasts.js';

/** Publishes broadcasts that come from the API rather than the projector (typing, presence). */
export type Broadcaster = (broadcasts: Broadcast[]) => Promise<void>;

/**
 * Sealed like the projector's, on the same channel, so every process's gateway delivers them. They go out in call
 * order (a typing start is never overtaken by its stop), while sealing runs ahead.
 */
export function createBroadcaster(deps: { bus: PubSub; crypto: GroupEncryptionManager }): Broadcaster {
  let previous: Promise<unknown> = Promise.resolve();
  return (broadcasts) => {
    const sealed = encodeBroadcasts(deps.crypto, broadcasts);
    const published = previous.then(async () => {
      if (broadcasts.length > 0) await deps.bus.publish(BROADCAST_CHANNEL, await sealed);
    });
    previous = published.catch(() => {});
    return published;
  };
}
