/**
 * Runs the commands of one stream in order. Commands that queue up while a write is in flight are decided together,
 * each against the state the previous ones left, and their events go to the store in one append. A stream's state
 * stays cached between batches, and its tail is read before deciding only when the store has told of an append this
 * cache has not seen (another process's, usually); an append the notice has not yet reached shows up as a revision
 * conflict, and the batch is decided again on the reloaded state. Every event appended links to the one before it in
 * its stream (infra/event-store/hash-chain.ts).
 */
import { DomainError } from '../domain/errors.js';
import { WrongExpectedRevisionError, type EventStore, type ExpectedRevision } from '../infra/event-store/port.js';
import { openEvent, sealEvent, type DomainEventShape } from '../infra/crypto/event-sealing.js';
import { chain, linkOf, NO_LINK } from '../infra/event-store/hash-chain.js';
import { KeyShreddedError, type GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';

export interface Decider<S, C, E extends DomainEventShape> {
  initialState(streamId: string): S;
  decide(command: C, state: S, now: Date): E[];
  /** May update `state` in place; the processor never shares a state it has not finished with. */
  evolve(state: S, event: E): S;
}

export interface Decided<E, A> {
  events: E[];
  /** What the caller asked to read off the state right after its own command. */
  answer: A;
  /** Global position of the batch's last event, or null when nothing was appended for this command. */
  position: string | null;
}

export interface ProcessorDeps {
  eventStore: EventStore;
  crypto: GroupEncryptionManager;
  clock: () => Date;
  newId: () => string;
}

interface Pending<C, E> {
  command: C;
  answerFrom: (state: any, events: E[]) => unknown;
  resolve: (value: Decided<E, unknown>) => void;
  reject: (error: unknown) => void;
}

interface Loaded<S> {
  state: S;
  revision: ExpectedRevision;
  /** The hash-chain link of the stream's last event (hash-chain.ts). */
  link: string;
  /** While an append of this processor is in flight: the revision it will reach, whose notice may come before its answer. */
  appending?: number;
}

const revisionNumber = (revision: ExpectedRevision) => (typeof revision === 'number' ? revision : -1);
const hasEvents = (outcome: { events: unknown[] } | { error: unknown }) => 'events' in outcome && outcome.events.length > 0;

const MAX_BATCH = 100;
/** What a command on a crypto-shredded group answers (`mirror-chat keys shred`). */
export const SHREDDED = 'This group was shredded: its history was destroyed and it takes no more messages';
const MAX_CONFLICT_RETRIES = 10;
const MAX_CACHED_STREAMS = 1000;

export class StreamProcessor<S, C, E extends DomainEventShape> {
  private readonly queues = new Map<string, Pending<C, E>[]>();
  /** Most recently used last, so the first key is the one to evict. */
  private readonly cache = new Map<string, Loaded<S>>();
  /** Cached streams the store has been appended to past their cached revision: their tails are read before deciding. */
  private readonly behind = new Set<string>();

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly decider: Decider<S, C, E>,
  ) {
    deps.eventStore.onAppended((appended) => {
      if (appended === null) {
        for (const streamId of this.cache.keys()) this.behind.add(streamId);
        return;
      }
      const cached = this.cache.get(appended.streamId);
      if (cached && appended.revision > Math.max(revisionNumber(cached.revision), cached.appending ?? -1)) this.behind.add(appended.streamId);
    });
  }

  execute<A = undefined>(streamId: string, command: C, answerFrom?: (state: S, events: E[]) => A): Promise<Decided<E, A>> {
    return new Promise((resolve, reject) => {
      const pending = { command, answerFrom: answerFrom ?? (() => undefined), resolve, reject } as Pending<C, E>;
      const queue = this.queues.get(streamId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(streamId, [pending]);
      void this.drain(streamId);
    });
  }

  private async drain(streamId: string): Promise<void> {
    const queue = this.queues.get(streamId)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      await this.runBatch(streamId, batch);
    }
    this.queues.delete(streamId);
  }

  private async runBatch(streamId: string, batch: Pending<C, E>[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let loaded: Loaded<S> | undefined;
      try {
        const cached = this.cache.get(streamId);
        const trusted = cached !== undefined && !this.behind.has(streamId);
        loaded = trusted ? cached : await this.catchUp(streamId, cached);
        let outcomes = batch.map((p) => this.decideOne(p, loaded!.state));
        // A batch that appends has its state vouched for by the append's revision check. One that appends nothing
        // (refusals, repeats) rests on the cache alone, so the tail is read — and the batch decided again on whatever
        // it held: deciding without events left the state untouched.
        if (trusted && !outcomes.some(hasEvents) && (await this.readTail(streamId, loaded)) > 0) {
          outcomes = batch.map((p) => this.decideOne(p, loaded!.state));
        }
        const events = outcomes.flatMap((o) => ('events' in o ? o.events : []));
        let position: string | null = null;
        if (events.length > 0) {
          const sealed = await Promise.all(events.map((e) => sealEvent(this.deps.crypto, streamId, this.deps.newId(), e, {})));
          const linked = chain(loaded.link, sealed);
          loaded.appending = revisionNumber(loaded.revision) + linked.events.length;
          const appended = await this.deps.eventStore.append(streamId, linked.events, loaded.revision);
          loaded.revision = appended.nextRevision;
          loaded.appending = undefined;
          loaded.link = linked.last;
          position = appended.position;
        }
        this.remember(streamId, loaded);
        batch.forEach((p, i) => {
          const o = outcomes[i]!;
          if ('error' in o) p.reject(o.error);
          else p.resolve({ events: o.events, answer: o.answer, position: o.events.length > 0 ? position : null });
        });
        return;
      } catch (error) {
        // The cached state may already hold events that were never written: forget it.
        this.cache.delete(streamId);
        this.behind.delete(streamId);
        if (error instanceof WrongExpectedRevisionError && attempt < MAX_CONFLICT_RETRIES) continue;
        const failure =
          error instanceof WrongExpectedRevisionError
            ? new DomainError('SERVER_ERROR', 'The group is too busy right now; please retry')
            : error instanceof KeyShreddedError
              ? new DomainError('NOT_FOUND', SHREDDED)
              : error;
        batch.forEach((p) => p.reject(failure));
        return;
      }
    }
  }

  private decideOne(p: Pending<C, E>, state: S): { events: E[]; answer: unknown } | { error: unknown } {
    try {
      const events = this.decider.decide(p.command, state, this.deps.clock());
      for (const event of events) this.decider.evolve(state, event);
      return { events, answer: p.answerFrom(state, events) };
    } catch (error) {
      return { error };
    }
  }

  /** The stream's state as of its last event: the cached one moved on by the tail, or one loaded from the start. */
  private async catchUp(streamId: string, cached: Loaded<S> | undefined): Promise<Loaded<S>> {
    const loaded = cached ?? { state: this.decider.initialState(streamId), revision: 'no_stream' as const, link: NO_LINK };
    await this.readTail(streamId, loaded);
    return loaded;
  }

  /** Applies the events after `loaded`'s revision to it; answers how many there were. */
  private async readTail(streamId: string, loaded: Loaded<S>): Promise<number> {
    // Before the read: a notice arriving while it runs may tell of an append the read does not see.
    this.behind.delete(streamId);
    const tail = await this.deps.eventStore.readStream(streamId, revisionNumber(loaded.revision) + 1);
    for (const recorded of tail) {
      this.decider.evolve(loaded.state, await openEvent<E>(this.deps.crypto, recorded));
      loaded.revision = recorded.revision;
      loaded.link = linkOf(loaded.link, recorded);
    }
    return tail.length;
  }

  private remember(streamId: string, loaded: Loaded<S>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
    if (this.cache.size > MAX_CACHED_STREAMS) {
      const evicted = this.cache.keys().next().value!;
      this.cache.delete(evicted);
      this.behind.delete(evicted);
    }
  }
}
