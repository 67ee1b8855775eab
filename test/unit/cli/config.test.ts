import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { parseConfig } from '../../../src/cli/config.js';

const key = () => randomBytes(32).toString('base64');

it('takes the previous master keys as a comma-separated list, none by default', () => {
  const [a, b] = [key(), key()];
  expect(parseConfig({}).MASTER_KEY_PREVIOUS).toEqual([]);
  expect(parseConfig({ MASTER_KEY: key(), MASTER_KEY_PREVIOUS: `${a}, ${b}` }).MASTER_KEY_PREVIOUS).toEqual([a, b]);
});

it('refuses a previous master key that is not 32 bytes of base64', () => {
  expect(() => parseConfig({ MASTER_KEY_PREVIOUS: `${key()},${randomBytes(16).toString('base64')}` })).toThrow(
    /MASTER_KEY_PREVIOUS: each key must be 32 bytes, base64-encoded/,
  );
});
