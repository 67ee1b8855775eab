/**
 * The event store contract: every adapter of `src/infra/event-store/port.ts` passes this one suite. Stream ids are
 * unique per test, and global-log assertions only look at a test's own events, so suites may share a database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../../src/infra/event-store/port.js';
import { subscribeToAll } from '../../src/infra/event-store/subscribe.js';

export function eventStoreContract(name: string, open: () => Promise<EventStore>): void {
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('appends to a new stream with no_stream and reads it back', async () => {
      const stream = streamId('new');
      const events = [newEvent('GroupCreated'), newEvent('MemberAdded')];
      const result = await store.append(stream, events, 'no_stream');
      expect(result.nextRevision).toBe(1);

      const read = await store.readStream(stream);
      expect(read.map((e) => [e.streamId, e.revision, e.id, e.type])).toEqual([
        [stream, 0, events[0]!.id, 'GroupCreated'],
        [stream, 1, events[1]!.id, 'MemberAdded'],
      ]);
      expect(read[1]!.position).toBe(result.position);
      for (const e of read) expect(e.recordedAt).toBeInstanceOf(Date);
    });

    it('appends at the expected revision, or at any revision', async () => {
      const stream = streamId('expected');
      await store.append(stream, [newEvent()], 'no_stream');
      expect((await store.append(stream, [newEvent(), newEvent()], 0)).nextRevision).toBe(2);
      expect((await store.append(stream, [newEvent()], 'any')).nextRevision).toBe(3);
      expect((await store.append(streamId('any'), [newEvent()], 'any')).nextRevision).toBe(0);
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
    });

    it('rejects a wrong expected revision and writes nothing', async () => {
      const stream = streamId('wrong');
      const written = [newEvent(), newEvent()];
      await store.append(stream, written, 'no_stream');

      await expectConflict(store.append(stream, [newEvent(), newEvent()], 0), stream, 0, 1);
      await expectConflict(store.append(stream, [newEvent()], 'no_stream'), stream, 'no_stream', 1);
      const missing = streamId('missing');
      await expectConflict(store.append(missing, [newEvent()], 0), missing, 0, 'no_stream');

      expect((await store.readStream(stream)).map((e) => e.id)).toEqual(written.map((e) => e.id));
      expect(await store.readStream(missing)).toEqual([]);
    });

    it('lets exactly one of several concurrent appends at the same revision win', async () => {
      const stream = streamId('race');
      const raceAt = async (expected: 'no_stream' | number) => {
        const contenders = Array.from({ length: 5 }, () => [newEvent(), newEvent()]);
        const outcomes = await Promise.allSettled(contenders.map((events) => store.append(stream, events, expected)));
        const winners = contenders.filter((_, i) => outcomes[i]!.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        return winners[0]!;
      };

      const first = await raceAt('no_stream');
      const second = await raceAt(1);
      expect((await store.readStream(stream)).map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
    });

    it('never rejects concurrent appends at any revision', async () => {
      const stream = streamId('race-any');
      const batches = Array.from({ length: 5 }, () => [newEvent(), newEvent()]);
      await Promise.all(batches.map((events) => store.append(stream, events, 'any')));

      const read = await store.readStream(stream);
      expect(read.map((e) => e.revision)).toEqual(read.map((_, i) => i));
      expect(new Set(read.map((e) => e.id))).toEqual(new Set(batches.flat().map((e) => e.id)));
      for (const events of batches) {
        const at = read.findIndex((e) => e.id === events[0]!.id);
        expect(read[at + 1]!.id).toBe(events[1]!.id);
      }
    });

    it('appends several events atomically, with consecutive revisions, adjacent in the global log', async () => {
      const start = await checkpointNow(store);
      const stream = streamId('batch');
      await store.append(stream, [newEvent()], 'no_stream');
      const batch = [newEvent(), newEvent(), newEvent()];
      const result = await store.append(stream, batch, 0);
      expect(result.nextRevision).toBe(3);

      const read = await store.readStream(stream, 1);
      expect(read.map((e) => [e.id, e.revision])).toEqual(batch.map((e, i) => [e.id, i + 1]));

      const log = await readAllUntil(store, start, 100, (seen) => containsAll(seen, batch));
      const at = log.findIndex((e) => e.id === batch[0]!.id);
      expect(log.slice(at, at + 3).map((e) => e.id)).toEqual(batch.map((e) => e.id));
      expect(log[at + 2]!.position).toBe(result.position);
    });

    it('reads a stream from a revision, and an unknown stream as empty', async () => {
      const stream = streamId('from');
      const events = Array.from({ length: 5 }, () => newEvent());
      await store.append(stream, events, 'no_stream');

      expect((await store.readStream(stream, 2)).map((e) => [e.revision, e.id])).toEqual(
        events.slice(2).map((e, i) => [i + 2, e.id]),
      );
      expect(await store.readStream(stream, 5)).toEqual([]);
      expect(await store.readStream(streamId('unknown'))).toEqual([]);
    });

    it('returns data bytes and metadata exactly as appended', async () => {
      const start = await checkpointNow(store);
      const stream = streamId('bytes');
      const events: NewEvent[] = [
        {
          id: randomUUID(),
          type: 'Sealed',
          data: Uint8Array.from({ length: 256 }, (_, i) => i),
          metadata: {
            keyVersion: 3,
            ratio: 1.5,
            negative: -42,
            flag: false,
            none: null,
            list: [1, 'two', null, true, { deep: [] }],
            text: 'ünïcödé 🔐 "quoted" back\\slash\nnewline',
          },
        },
        { id: randomUUID(), type: 'Empty', data: new Uint8Array(0), metadata: {} },
        { id: randomUUID(), type: 'Random', data: new Uint8Array(randomBytes(4096)), metadata: { nested: { a: { b: 'c' } } } },
      ];
      await store.append(stream, events, 'no_stream');

      const fromStream = await store.readStream(stream);
      const fromLog = (await readAllUntil(store, start, 100, (seen) => containsAll(seen, events))).filter(
        (e) => e.streamId === stream,
      );
      for (const read of [fromStream, fromLog]) {
        expect(read.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }))).toEqual(events);
        for (const e of read) expect(e.data).toBeInstanceOf(Uint8Array);
      }
    });

    it('pages through the global log by checkpoint: every event once, in append order', async () => {
      const start = await checkpointNow(store);
      const [a, b, c] = [streamId('log-a'), streamId('log-b'), streamId('log-c')];
      const appended: NewEvent[] = [];
      const appendTo = async (stream: string, count: number, expected: 'no_stream' | number) => {
        const events = Array.from({ length: count }, () => newEvent());
        await store.append(stream, events, expected);
        appended.push(...events);
      };
      await appendTo(a, 2, 'no_stream');
      await appendTo(b, 1, 'no_stream');
      await appendTo(a, 1, 1);
      await appendTo(c, 3, 'no_stream');
      await appendTo(b, 2, 0);

      const log = await readAllUntil(store, start, 2, (seen) => containsAll(seen, appended));
      const ours = log.filter((e) => [a, b, c].includes(e.streamId));
      expect(ours.map((e) => e.id)).toEqual(appended.map((e) => e.id));
      for (const stream of [a, b, c]) {
        const revisions = ours.filter((e) => e.streamId === stream).map((e) => e.revision);
        expect(revisions).toEqual(revisions.map((_, i) => i));
      }
      expectIncreasingPositions(log.map((e) => e.position));
      expect(log.every((e) => e.position > start)).toBe(true);
    });

    // 1,000 events cross a decimal digit boundary (…999 → …1000) in revisions and in any sequence under 1,000, the
    // place where an order on numbers-as-text would go wrong.
    it('keeps numeric order across digit boundaries, in a stream and in small pages of the log', async () => {
      const start = await checkpointNow(store);
      const stream = streamId('long');
      const events = Array.from({ length: 1000 }, () => newEvent());
      await store.append(stream, events, 'no_stream');
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual(events.map((_, i) => i));
      expect((await store.readStream(stream, 995)).map((e) => e.revision)).toEqual([995, 996, 997, 998, 999]);
      const log = await readAllUntil(store, start, 9, (seen) => containsAll(seen, events));
      expect(log.filter((e) => e.streamId === stream).map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it('tells the head of the log, and counts the events after a position', async () => {
      const start = await checkpointNow(store);
      const [a, b] = [streamId('head-a'), streamId('head-b')];
      const first = await store.append(a, [newEvent(), newEvent(), newEvent()], 'no_stream');
      const before = Date.now();
      const last = await store.append(b, [newEvent(), newEvent()], 'no_stream');

      // Polled: a PostgreSQL store holds the head back while an older transaction in the cluster is open.
      await vi.waitFor(async () => expect((await store.head())?.position).toBe(last.position), { timeout: 10_000, interval: 20 });
      const head = (await store.head())!;
      expect(head.recordedAt).toBeInstanceOf(Date);
      expect(head.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(head.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);

      expect(await store.countAfter(start)).toBe(5);
      expect(await store.countAfter(first.position)).toBe(2);
      expect(await store.countAfter(last.position)).toBe(0);
      let all = 0;
      for (let after: string | null = null; ; ) {
        const page = await store.readAll(after, 1000);
        all += page.length;
        if (page.length < 1000) break;
        after = page.at(-1)!.position;
      }
      expect(await store.countAfter(null)).toBe(all);
    });

    it('hands out positions that increase lexicographically with every append', async () => {
      const positions: string[] = [];
      const stream = streamId('positions');
      for (let i = 0; i < 4; i++) {
        const expected = i === 0 ? 'no_stream' : i - 1;
        positions.push((await store.append(stream, [newEvent()], expected)).position);
      }
      expect(positions.every((p) => typeof p === 'string')).toBe(true);
      expectIncreasingPositions(positions);
    });

    it('calls onAppended listeners after an append', async () => {
      let calls = 0;
      const off = store.onAppended(() => {
        calls += 1;
      });
      try {
        // Let wake-ups from earlier tests' appends (and a subscription starting up) pass first.
        await sleep(200);
        calls = 0;
        await store.append(streamId('notify'), [newEvent()], 'no_stream');
        await vi.waitFor(() => expect(calls).toBeGreaterThan(0), { timeout: 5000, interval: 10 });
      } finally {
        off();
      }
    });

    it('tells onAppended listeners which stream an append reached and its revision there', async () => {
      const heard: unknown[] = [];
      const off = store.onAppended((appended) => heard.push(appended));
      try {
        const stream = streamId('notice');
        await store.append(stream, [newEvent(), newEvent()], 'no_stream');
        await store.append(stream, [newEvent()], 1);
        await vi.waitFor(() => expect(heard).toContainEqual({ streamId: stream, revision: 2 }), { timeout: 5000, interval: 10 });
        expect(heard).toContainEqual({ streamId: stream, revision: 1 });
      } finally {
        off();
      }
    });

    it('subscribeToAll delivers every event of several streams once and in order, including later appends', async () => {
      const start = await checkpointNow(store);
      const [a, b, c] = [streamId('sub-a'), streamId('sub-b'), streamId('sub-c')];
      const appended: NewEvent[] = [];
      const appendTo = async (stream: string, count: number, expected: 'no_stream' | number) => {
        const events = Array.from({ length: count }, () => newEvent());
        await store.append(stream, events, expected);
        appended.push(...events);
      };
      await appendTo(a, 2, 'no_stream');
      await appendTo(b, 1, 'no_stream');

      const delivered: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = subscribeToAll(store, {
        after: start,
        batchSize: 2,
        pollMs: 50,
        onBatch: async (events) => {
          delivered.push(...events);
        },
        onError: (error) => errors.push(error),
      });
      try {
        await vi.waitFor(() => expect(containsAll(delivered, appended)).toBe(true), { timeout: 5000, interval: 10 });
        await appendTo(c, 3, 'no_stream');
        await appendTo(a, 1, 1);
        await sleep(20);
        await appendTo(b, 2, 0);
        await vi.waitFor(() => expect(containsAll(delivered, appended)).toBe(true), { timeout: 5000, interval: 10 });
      } finally {
        await subscription.stop();
      }

      const ours = delivered.filter((e) => [a, b, c].includes(e.streamId));
      expect(ours.map((e) => e.id)).toEqual(appended.map((e) => e.id));
      expectIncreasingPositions(delivered.map((e) => e.position));
      expect(errors).toEqual([]);
    });

    it('subscribeToAll reports a failed batch and offers it again', async () => {
      const start = await checkpointNow(store);
      const events = [newEvent(), newEvent()];
      await store.append(streamId('retry'), events, 'no_stream');

      const delivered: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = subscribeToAll(store, {
        after: start,
        pollMs: 50,
        retryMs: 10,
        onBatch: async (batch) => {
          if (errors.length === 0) throw new Error('projection failed');
          delivered.push(...batch);
        },
        onError: (error) => errors.push(error),
      });
      try {
        await vi.waitFor(() => expect(containsAll(delivered, events)).toBe(true), { timeout: 5000, interval: 10 });
      } finally {
        await subscription.stop();
      }
      expect(errors).toEqual([new Error('projection failed')]);
      expect(delivered.filter((e) => events.some((n) => n.id === e.id)).map((e) => e.id)).toEqual(
        events.map((e) => e.id),
      );
    });
  });
}

/**
 * Follows the global log from `after` in pages of `pageSize` until `done` holds. Polling, rather than one read, because
 * a PostgreSQL store rightly holds back events while any older transaction in the cluster (another test file's) is open.
 */
export async function readAllUntil(
  store: EventStore,
  after: string | null,
  pageSize: number,
  done: (seen: RecordedEvent[]) => boolean,
): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  let checkpoint = after;
  const deadline = Date.now() + 10_000;
  while (!done(seen)) {
    if (Date.now() > deadline) throw new Error(`readAll from ${after} did not reach the expected events in 10 s`);
    const page = await store.readAll(checkpoint, pageSize);
    expect(page.length).toBeLessThanOrEqual(pageSize);
    if (page.length === 0) {
      await sleep(20);
      continue;
    }
    seen.push(...page);
    checkpoint = page[page.length - 1]!.position;
  }
  return seen;
}

export function newEvent(type = 'TestEvent'): NewEvent {
  return { id: randomUUID(), type, data: new Uint8Array(randomBytes(16)), metadata: { test: true } };
}

export function streamId(label: string): string {
  return `contract-${label}-${randomUUID()}`;
}

/** A position at the current end of the log, so a test reads only what comes after it. */
async function checkpointNow(store: EventStore): Promise<string> {
  return (await store.append(streamId('checkpoint'), [newEvent('Checkpoint')], 'no_stream')).position;
}

function containsAll(seen: RecordedEvent[], events: NewEvent[]): boolean {
  const ids = new Set(seen.map((e) => e.id));
  return events.every((e) => ids.has(e.id));
}

function expectIncreasingPositions(positions: string[]): void {
  for (let i = 1; i < positions.length; i++) {
    expect(positions[i]!.length).toBe(positions[0]!.length);
    expect(positions[i]! > positions[i - 1]!).toBe(true);
  }
}

async function expectConflict(
  append: Promise<unknown>,
  streamId: string,
  expected: number | 'no_stream',
  actual: number | 'no_stream',
): Promise<void> {
  const error = await append.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject({ streamId, expected, actual });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
