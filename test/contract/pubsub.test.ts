import { randomUUID } from 'node:crypto';
import { createMemoryPubSub } from '../../src/infra/pubsub/memory/index.js';
import { openRedisPubSub } from '../../src/infra/pubsub/redis/index.js';
import { REDIS_URL } from '../support/backends.js';
import { pubSubContract } from './pubsub.contract.js';

const memoryBus = createMemoryPubSub();
pubSubContract('memory', { connect: async () => memoryBus, separateProcesses: false });

// A prefix of its own keeps this run apart from other test files publishing on the same Redis.
const prefix = `test-${randomUUID()}:`;
pubSubContract('redis', { connect: () => openRedisPubSub(REDIS_URL, { prefix }), separateProcesses: true });
