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

it("has the guide's rate limits by default, and takes others from the environment", () => {
  expect(parseConfig({})).toMatchObject({
    RATE_LIMIT_HTTP_MESSAGES_PER_MIN: 30,
    RATE_LIMIT_WS_FRAMES_PER_SEC: 10,
    RATE_LIMIT_HTTP_WRITES_PER_MIN: 120,
    RATE_LIMIT_TYPING_STARTS_PER_MIN: 60,
    RATE_LIMIT_LOGINS_PER_HOUR: 20,
    RATE_LIMIT_REGISTRATIONS_PER_HOUR: 10,
    WS_MAX_BUFFERED_BYTES: 1024 * 1024,
  });
  expect(parseConfig({ RATE_LIMIT_HTTP_MESSAGES_PER_MIN: '5', RATE_LIMIT_WS_FRAMES_PER_SEC: '2' })).toMatchObject({
    RATE_LIMIT_HTTP_MESSAGES_PER_MIN: 5,
    RATE_LIMIT_WS_FRAMES_PER_SEC: 2,
  });
  expect(() => parseConfig({ RATE_LIMIT_WS_FRAMES_PER_SEC: '0' })).toThrow(/RATE_LIMIT_WS_FRAMES_PER_SEC/);
});

it('takes the allowed browser origins as a comma-separated list of origins', () => {
  expect(parseConfig({}).CORS_ORIGINS).toEqual([]);
  expect(parseConfig({ CORS_ORIGINS: 'https://chat.example.com, http://localhost:5173' }).CORS_ORIGINS).toEqual([
    'https://chat.example.com',
    'http://localhost:5173',
  ]);
  expect(() => parseConfig({ CORS_ORIGINS: 'https://chat.example.com/app' })).toThrow(/CORS_ORIGINS: each entry must be an origin/);
});

it('believes no proxy by default, and takes the trusted ones as addresses, CIDR ranges or named ranges', () => {
  expect(parseConfig({}).TRUST_PROXY).toEqual([]);
  expect(parseConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7, ::1, fd00::/8, loopback' }).TRUST_PROXY).toEqual([
    '10.0.0.0/8',
    '192.168.1.7',
    '::1',
    'fd00::/8',
    'loopback',
  ]);
  for (const wrong of ['true', '1', 'proxy.example.com', '10.0.0.0/33', '10.0.0.0/8/8'])
    expect(() => parseConfig({ TRUST_PROXY: wrong })).toThrow(/TRUST_PROXY: each entry must be an IP address, a CIDR range/);
});

it('leaves offline delivery without a webhook by default, and takes only an http(s) one', () => {
  const defaults = parseConfig({});
  expect(defaults.DELIVERY_WEBHOOK_URL).toBeUndefined();
  expect([defaults.DELIVERY_RETRY_LIMIT, defaults.DELIVERY_RETRY_DELAY_SECONDS, defaults.DELIVERY_RETENTION_DAYS]).toEqual([5, 10, 30]);
  expect(parseConfig({ DELIVERY_WEBHOOK_URL: 'https://push.example.com/hook' }).DELIVERY_WEBHOOK_URL).toBe('https://push.example.com/hook');
  expect(() => parseConfig({ DELIVERY_WEBHOOK_URL: 'ftp://push.example.com/hook' })).toThrow(/DELIVERY_WEBHOOK_URL: must start with http:\/\/ or https:\/\//);
  expect(() => parseConfig({ DELIVERY_RETRY_DELAY_SECONDS: '0' })).toThrow(/DELIVERY_RETRY_DELAY_SECONDS/);
});
