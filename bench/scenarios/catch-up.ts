/**
 * Catch-up: N events seeded while no server runs, then a server started on them with cold checkpoints: events per
 * second until every projection's checkpoint reaches the head. The baseline here is not the bare-ws server (it has
 * no read models) but reading and opening the same events without projecting them: the ceiling of projection.
 */
import type { Scenario } from '../scenario.js';
import { readBackRate, seedGroupHistory, serveSeeded } from '../seed.js';
import { benchBackends } from '../servers.js';
import { CONTENT_CHARS } from './fanout.js';

const SIZES = { short: { events: 20_000 }, full: { events: 1_000_000 } };
const TARGET_EVENTS_PER_SECOND = 5000;

export const catchUp: Scenario = async (ctx) => {
  const size = ctx.short ? SIZES.short : SIZES.full;
  const backends = await benchBackends(ctx.profile);
  try {
    const seedStarted = performance.now();
    const seed = await seedGroupHistory(backends.env, size.events, CONTENT_CHARS);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const readBack = await readBackRate(seed.backends);
    const { server, seconds, secondsFromListening } = await serveSeeded(backends, seed);
    await server.stop();
    const rate = size.events / seconds;
    return {
      scenario: 'catch-up',
      parameters: { ...size, contentChars: CONTENT_CHARS, profile: ctx.profile },
      figures: [
        { name: 'events projected/s', unit: '1/s', value: rate, baseline: readBack, higherIsBetter: true },
        { name: 'time to head from spawn', unit: 's', value: seconds, higherIsBetter: false },
        { name: 'time to head from listening', unit: 's', value: secondsFromListening, higherIsBetter: false },
        { name: 'seeding (seal + append)', unit: 'events/s', value: size.events / seedSeconds, higherIsBetter: true },
      ],
      notes: [
        `target (full size): ≥ ${TARGET_EVENTS_PER_SECOND} events/s — ${rate >= TARGET_EVENTS_PER_SECOND ? 'met' : 'missed'} at this size`,
        'baseline: the same events read from the event store and opened (decrypted) in the harness process, without projecting',
        'events/s counts from spawning the server: its start-up (about a second) is included, which matters only at small sizes',
      ],
    };
  } finally {
    await backends.drop();
  }
};
