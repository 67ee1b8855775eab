import { randomUUID } from 'node:crypto';
import { createMemoryEphemeralStore } from '../../src/infra/ephemeral/memory/index.js';
import { openRedisEphemeralStore } from '../../src/infra/ephemeral/redis/index.js';
import { afterAll } from 'vitest';
import { REDIS_URL, dropRedisPrefix } from '../support/backends.js';
import { ephemeralContract } from './ephemeral.contract.js';

const memoryStore = createMemoryEphemeralStore();
ephemeralContract('memory', { open: async () => memoryStore });

// A prefix of its own keeps this run apart from other test files using the same Redis.
const prefix = `test-${randomUUID()}:`;
ephemeralContract('redis', { open: () => openRedisEphemeralStore(REDIS_URL, { prefix }) });
afterAll(() => dropRedisPrefix(prefix));
