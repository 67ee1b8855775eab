/**
 * Hostile input for the fuzz suites: a seeded generator (the same seed gives the same inputs, so a failure can be
 * replayed) and the values an attacker or a broken client sends — wrong types, edge-case unicode, prototype keys,
 * numbers out of range, malformed JSON — plus checks of what the server may answer to them.
 */
import { randomUUID } from 'node:crypto';
import { errorCodes } from '../../src/domain/errors.js';

export interface Random {
  /** In [0, 1). */
  next(): number;
  int(below: number): number;
  chance(p: number): boolean;
  pick<T>(values: readonly T[]): T;
}

/** mulberry32: small, fast, and good enough to pick inputs. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  return { next, int, chance: (p) => next() < p, pick: (values) => values[int(values.length)]! };
}

/** The suite's seed: fixed, so every run tries the same inputs, unless FUZZ_SEED asks for others. */
export const fuzzSeed = Number(process.env.FUZZ_SEED ?? 20_261_124);

const uuid = randomUUID();

export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '\t\r\n',
  'a',
  'x'.repeat(10_001),
  '界'.repeat(10_001),
  '👍'.repeat(6_000),
  'y'.repeat(70_000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  'hi \ud83d',
  '\u202eevil\u202c',
  '\u200f\u05e9\u05dc\u05d5\u05dd',
  '\ufeffbom',
  '\u200b',
  `e${'\u0301'.repeat(2_000)}`,
  '👨‍👩‍👧‍👦',
  '🇺🇳',
  '1️⃣',
  '👍🏽',
  '\u001b[31mred',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  'true',
  '0',
  '-1',
  '1e400',
  '0x10',
  ' 42 ',
  '4.2',
  "' OR '1'='1",
  '"; DROP TABLE mirror_users; --',
  '%',
  '%00',
  '%zz',
  '..',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  uuid,
  uuid.toUpperCase(),
  `{${uuid}}`,
  uuid.replaceAll('-', ''),
  `${uuid}\u0000`,
  `${uuid} `,
  'everyone',
  '@everyone',
];

/** The search query's own syntax, half-written or out of range (domain/search/query.ts). */
export const searchSyntax: readonly string[] = [
  'from:',
  'from:@everyone',
  'before:9999-99-99',
  'after:2024-02-30',
  'after:275760-09-14',
  'in:',
  'in:not-an-id',
  `in:${uuid}`,
  'has:',
  'has:nothing',
  '"',
  '"unclosed phrase',
  '" "'.repeat(100),
  'a'.repeat(500),
  'from:a before:2020-01-01 after:2030-01-01 in:thread has:link',
  '-not +plus wild* (group) OR',
  'İ'.repeat(300),
];

const hostileNumbers: readonly number[] = [0, -0, -1, 1, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE];

/** Keys that reach for the prototype, or for fields only the server may set. */
const hostileKeys: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'senderUserId',
  'senderId',
  'userId',
  'groupId',
  'id',
  'createdAt',
  'isDeleted',
  'role',
  'isAdmin',
  '',
  '\u0000',
];

/** An object with these own keys, even `__proto__`, which a literal would turn into the prototype. */
export function ownKeys(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

/** Any JSON value, hostile leaves preferred, at most `depth` levels deep. */
export function hostileValue(random: Random, extra: readonly unknown[] = [], depth = 2): unknown {
  switch (random.int(depth > 0 ? 8 : 6)) {
    case 0:
      return random.pick([null, true, false]);
    case 1:
    case 2:
      return random.pick(hostileStrings);
    case 3:
      return random.pick(hostileNumbers);
    case 4:
      return extra.length > 0 ? random.pick(extra) : random.pick(hostileStrings);
    case 5:
      return random.pick([[], {}, [null], Array.from({ length: 10_000 }, (_, i) => i)]);
    case 6:
      return Array.from({ length: 1 + random.int(3) }, () => hostileValue(random, extra, depth - 1));
    default:
      return ownKeys(Array.from({ length: 1 + random.int(3) }, () => [random.pick(hostileKeys), hostileValue(random, extra, depth - 1)]));
  }
}

/**
 * A valid object with one thing wrong: a field with a hostile value, a field missing, an unknown or privileged key
 * added, or a nested object broken the same way.
 */
export function mutate(random: Random, template: Record<string, unknown>, extra: readonly unknown[] = []): unknown {
  const keys = Object.keys(template);
  const key = keys.length > 0 ? random.pick(keys) : undefined;
  const copy = ownKeys(Object.entries(template));
  switch (random.int(6)) {
    case 0:
    case 1:
      if (key !== undefined) copy[key] = hostileValue(random, extra);
      return copy;
    case 2:
      if (key !== undefined) delete copy[key];
      return copy;
    case 3:
      return ownKeys([...Object.entries(copy), [random.pick(hostileKeys), hostileValue(random, extra)]]);
    case 4: {
      const nested = keys.filter((k) => typeof template[k] === 'object' && template[k] !== null && !Array.isArray(template[k]));
      if (nested.length === 0) return ownKeys([...Object.entries(copy), [random.pick(hostileKeys), hostileValue(random, extra)]]);
      const inner = random.pick(nested);
      copy[inner] = mutate(random, template[inner] as Record<string, unknown>, extra);
      return copy;
    }
    default:
      return hostileValue(random, extra);
  }
}

type Path = Array<string | number>;

/** Every leaf of a JSON value (a string, number, boolean or null), with its path. */
function leaves(value: unknown, path: Path = []): Array<{ path: Path; value: unknown }> {
  if (typeof value !== 'object' || value === null) return [{ path, value }];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, Array.isArray(value) ? Number(key) : key]));
}

function replaced(template: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(template) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
  return copy;
}

/**
 * The template once for each of its leaves and each hostile value of that leaf's kind — every string field gets
 * every hostile string (and `extra`), every number every hostile number — plus a few values of the wrong type.
 */
export function fieldSweep(template: unknown, extra: readonly string[] = []): unknown[] {
  return leaves(template).flatMap(({ path, value }) => {
    const wrongType = [null, [], {}, typeof value === 'string' ? 1 : 'text'];
    const values =
      typeof value === 'string'
        ? [...hostileStrings, ...extra]
        : typeof value === 'number'
          ? [...hostileNumbers, `${value}`]
          : typeof value === 'boolean'
            ? [`${value}`, 1, 0]
            : [];
    return [...values, ...wrongType].map((v) => replaced(template, path, v));
  });
}

/** JSON nested `depth` levels deep: arrays, or objects, as `kind` says. */
export function deeplyNested(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Text that is not JSON, or JSON no schema wants, as it arrives on the wire. */
export function malformedJson(random: Random, valid: string): string | Buffer {
  switch (random.int(10)) {
    case 0:
      return valid.slice(0, random.int(Math.max(valid.length, 1)));
    case 1:
      return random.pick(['', '{', '[', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '\u0000', '{"a":1}{"b":2}', 'null', '"just a string"', '12345']);
    case 2:
      return Buffer.from(Array.from({ length: 1 + random.int(64) }, () => random.int(256)));
    case 3:
      return deeplyNested(1 + random.int(100_000), random.pick(['array', 'object'] as const));
    case 4:
      // Numbers JSON can write but no field can hold.
      return valid.replace(/(:\s*)("[^"]*"|\d+)/, `$1${random.pick(['1e400', '-1e400', '123456789012345678901234567890', '-0', '1.0e-400'])}`);
    case 5:
      // The same key twice: which one wins must not matter.
      return valid.replace(/^\{("[^"]+"):/, `{$1:{"x":1},$1:`);
    case 6:
      return `${valid}${' '.repeat(random.int(4))}garbage`;
    case 7:
      return JSON.stringify(ownKeys([['__proto__', { isAdmin: true, polluted: 'yes' }], ['constructor', { prototype: { polluted: 'yes' } }]]));
    case 8:
      return `\ufeff${valid}`;
    default:
      return valid.replace(/"/, "'");
  }
}

const stackTrace = /\n\s+at\s|node_modules|\.ts:\d|\.js:\d|file:\/\/|\/src\/|Error:\s/;

/** What must never reach a client: a stack trace, a source path, the server's directory. */
export function leakIn(text: string): string | null {
  const match = stackTrace.exec(text) ?? (text.includes(process.cwd()) ? [process.cwd()] : null);
  return match ? `leaks ${JSON.stringify(match[0])}` : null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `error` is the guide's error object `{ code, message, details? }` with one of its codes. */
export function errorObjectProblem(error: unknown, extraKeys: readonly string[] = []): string | null {
  if (!isPlainObject(error)) return 'no error object';
  const unexpected = Object.keys(error).filter((k) => !['code', 'message', 'details', ...extraKeys].includes(k));
  if (unexpected.length > 0) return `unexpected error keys ${unexpected.join(', ')}`;
  if (!(errorCodes as readonly unknown[]).includes(error.code)) return `unknown code ${JSON.stringify(error.code)}`;
  if (error.code === 'SERVER_ERROR') return 'SERVER_ERROR';
  if (typeof error.message !== 'string' || error.message.length === 0) return 'no message';
  if (error.details !== undefined && !isPlainObject(error.details)) return 'details is not an object';
  return null;
}

/** What is wrong with an HTTP answer to hostile input, if anything: a 5xx, a body off the guide's envelope, a leak. */
export function answerProblem(status: number, text: string, contentType: string | null): string | null {
  if (status >= 500) return `status ${status}`;
  const leak = leakIn(text);
  if (leak) return leak;
  if (!contentType?.startsWith('application/json')) return status < 400 ? null : `error answered as ${contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (!isPlainObject(body)) return 'body is not an object';
  if (status < 400) return body.success === true ? null : 'a success without success: true';
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'error,success' || body.success !== false) return `not the envelope: keys ${keys}`;
  return errorObjectProblem(body.error);
}
