/** The projector thread's own start (index.ts): its backends, the projector, and its stop when told. */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../api/logger.js';
import { connectedAmong } from '../../api/delivery.js';
import { KEYS_CHANGED_CHANNEL } from '../../infra/crypto/group-encryption-manager.js';
import { startProjector } from '../../projections/projector.js';
import { openBackends } from '../backends.js';
import type { Config } from '../config.js';
import { OPEN, STARTED, STOP } from './index.js';

const { config } = workerData as { config: Config };
const told = (what: string) => new Promise<void>((resolve) => parentPort!.on('message', (message) => message === what && resolve()));
let stopping = false;
// Heard from the start: a server that stops while this thread is still loading must not wait for it forever.
const stopAsked = told(STOP).then(() => {
  stopping = true;
});
await Promise.race([told(OPEN), stopAsked]);
if (stopping) process.exit(0);

const logger = createLogger(config.LOG_LEVEL).child({ thread: 'projector' });
const backends = await openBackends(config, logger, 'the projector thread');
const { readDb, eventStore, crypto, bus, lock, ephemeral } = backends;
// `mirror-chat keys …` rotated or shredded a scope: read its keys again before the next use.
const stopForgetting = await bus.subscribe(KEYS_CHANGED_CHANNEL, (scope) => crypto.forget(scope));
const projector = startProjector({ db: readDb, eventStore, crypto, bus, lock, logger, connected: connectedAmong(ephemeral, logger) });
parentPort!.postMessage(STARTED);

await stopAsked;
await projector.stop();
await stopForgetting();
await backends.close();
// In a thread, this ends the thread only; its handles are closed already.
process.exit(0);
