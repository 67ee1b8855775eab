import { describe, expect, it } from 'vitest';
import { chain, follow, linkOf, NO_LINK, PREV_HASH, startCheck, verifyChain, type ChainCheck, type ChainHead } from '../../../src/infra/event-store/hash-chain.js';
import type { NewEvent, RecordedEvent } from '../../../src/infra/event-store/port.js';

const event = (n: number): NewEvent => ({ id: `event-${n}`, type: 'MessageSent', data: new Uint8Array([n, n + 1, n + 2]), metadata: {} });

const recorded = (events: NewEvent[], streamId = 'group-g'): RecordedEvent[] =>
  events.map((e, revision) => ({ ...e, streamId, revision, position: String(revision), recordedAt: new Date(0) }));

/** Five events appended in two batches, as a stream holds them. */
function stream(streamId?: string): RecordedEvent[] {
  const first = chain(NO_LINK, [event(0), event(1)]);
  const second = chain(first.last, [event(2), event(3), event(4)]);
  return recorded([...first.events, ...second.events], streamId);
}

/** Three events written before streams were chained, then two appended by a server that links them. */
function upgradedStream(): RecordedEvent[] {
  const legacy = [event(0), event(1), event(2)];
  const linked = chain(legacy.reduce(linkOf, NO_LINK), [event(3), event(4)]);
  return recorded([...legacy, ...linked.events]);
}

describe('hash chain', () => {
  it('links each event to the one before it, across appends, and verifies as stored', () => {
    const events = stream();
    expect(events[0]!.metadata[PREV_HASH]).toBeNull();
    expect(new Set(events.slice(1).map((e) => e.metadata[PREV_HASH])).size).toBe(4);
    expect(verifyChain(events)).toMatchObject({ events: 5, unchained: 0, broken: null, link: events.reduce(linkOf, NO_LINK) });
  });

  it('names the first altered event, whatever changed in it', () => {
    for (const alter of [(e: RecordedEvent) => ({ ...e, data: new Uint8Array([9]) }), (e: RecordedEvent) => ({ ...e, type: 'MessageDeleted' }), (e: RecordedEvent) => ({ ...e, id: 'forged' })]) {
      const events = stream();
      events[2] = alter(events[2]!);
      expect(verifyChain(events).broken).toMatchObject({ kind: 'altered', revision: 2 });
    }
    const relinked = stream();
    relinked[3] = { ...relinked[3]!, metadata: { [PREV_HASH]: 'f'.repeat(64) } };
    expect(verifyChain(relinked).broken).toMatchObject({ kind: 'altered', revision: 2 });
    const forgedStart = stream();
    forgedStart[0] = { ...forgedStart[0]!, metadata: { [PREV_HASH]: 'f'.repeat(64) } };
    expect(verifyChain(forgedStart).broken).toMatchObject({ kind: 'altered', revision: 0 });
  });

  it('names missing and reordered events', () => {
    const events = stream();
    expect(verifyChain([events[0]!, events[1]!, events[3]!, events[4]!]).broken).toMatchObject({ kind: 'missing', revision: 2 });
    expect(verifyChain([events[0]!, events[2]!, events[1]!]).broken).toMatchObject({ kind: 'missing', revision: 1 });
    expect(verifyChain([events[0]!, events[1]!, events[1]!]).broken).toMatchObject({ kind: 'reordered', revision: 1 });
    // Renumbered after a deletion: the revisions run on, the links do not.
    const renumbered = [events[0]!, events[1]!, { ...events[3]!, revision: 2 }];
    expect(verifyChain(renumbered).broken).toMatchObject({ kind: 'altered', revision: 1 });
  });

  it('counts events from before streams were chained, and holds them to the first link that follows', () => {
    expect(verifyChain(upgradedStream())).toMatchObject({ events: 5, unchained: 3, broken: null });
    expect(verifyChain(upgradedStream().slice(0, 3))).toMatchObject({ events: 3, unchained: 3, broken: null });

    const altered = upgradedStream();
    altered[1] = { ...altered[1]!, data: new Uint8Array([9]) };
    expect(verifyChain(altered).broken).toMatchObject({ kind: 'altered', revision: 2, detail: expect.stringContaining('revisions 0–2') });
  });

  it('calls an event without a link after linked ones unchained, not a leftover from before chains', () => {
    const events = stream();
    events[3] = { ...events[3]!, metadata: {} };
    expect(verifyChain(events).broken).toMatchObject({ kind: 'unchained', revision: 3 });
  });

  it('checks streams whose events come interleaved, as the global log gives them, one step at a time', () => {
    const [a, b] = [stream('group-a'), stream('group-b')];
    b[3] = { ...b[3]!, data: new Uint8Array([9]) };
    const checks = new Map<string, ChainCheck>();
    for (const e of [a[0]!, b[0]!, b[1]!, a[1]!, a[2]!, b[2]!, b[3]!, a[3]!, b[4]!, a[4]!]) {
      const check = checks.get(e.streamId) ?? startCheck();
      checks.set(e.streamId, check);
      follow(check, e);
    }
    expect(checks.get('group-a')).toEqual(verifyChain(a));
    expect(checks.get('group-b')).toEqual(verifyChain(b));
    expect(checks.get('group-b')!.broken).toMatchObject({ kind: 'altered', revision: 3 });
  });

  it('holds a stream to the head an earlier check recorded: a rewrite linked anew, a cut or a changed last event shows', () => {
    const events = stream();
    const earlier: ChainHead = { events: 4, link: verifyChain(events.slice(0, 4)).link };
    expect(verifyChain(events, earlier).broken).toBeNull();

    // Revision 1 altered and everything after it linked anew: the chain alone holds, the earlier head does not.
    const rewritten = chain(linkOf(NO_LINK, events[0]!), [{ ...event(1), data: new Uint8Array([9]) }, event(2), event(3), event(4)]);
    const relinked = recorded([events[0]!, ...rewritten.events]);
    expect(verifyChain(relinked).broken).toBeNull();
    expect(verifyChain(relinked, earlier).broken).toMatchObject({ kind: 'rewritten', revision: 3 });

    expect(verifyChain(events.slice(0, 3), earlier).broken).toMatchObject({ kind: 'missing', revision: 3 });
    const lastChanged = [...events.slice(0, 3), { ...events[3]!, data: new Uint8Array([9]) }];
    expect(verifyChain(lastChanged).broken).toBeNull();
    expect(verifyChain(lastChanged, earlier).broken).toMatchObject({ kind: 'rewritten', revision: 3 });
  });
});
