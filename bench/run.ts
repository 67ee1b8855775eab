/**
 * `npm run bench -- [scenario ...] [--short] [--profile full|embedded] [--workers N] [--cpu-prof]`: runs the named scenarios
 * (all by default), one after another on fresh backends, prints a markdown table for each and writes
 * bench/results/<scenario>-<date>.json. See bench/README.md.
 */
import { parseArgs } from 'node:util';
import { machine, markdownTable, writeResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { catchUp } from './scenarios/catch-up.js';
import { connections } from './scenarios/connections.js';
import { fanout } from './scenarios/fanout.js';
import { history } from './scenarios/history.js';
import { saturation } from './scenarios/saturation.js';
import { search } from './scenarios/search.js';
import { CPU_PROFILE_DIR_ENV } from './servers.js';

/** Where `--cpu-prof` puts the servers' profiles (git ignores it); open them in Chrome DevTools or speedscope. */
const PROFILE_DIR = 'bench/profiles';

const scenarios: Record<string, Scenario> = { fanout, saturation, history, 'catch-up': catchUp, connections, search };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    short: { type: 'boolean', default: false },
    profile: { type: 'string', default: 'full' },
    workers: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const unknown = positionals.filter((name) => !(name in scenarios));
if (unknown.length > 0 || (values.profile !== 'full' && values.profile !== 'embedded')) {
  console.error(`usage: npm run bench -- [${Object.keys(scenarios).join('|')} ...] [--short] [--profile full|embedded] [--workers N] [--cpu-prof]`);
  process.exit(2);
}
const ctx: BenchContext = {
  short: values.short,
  profile: values.profile,
  // Two cores: in short mode one generator leaves the server a core of its own; full size needs two to keep up.
  workers: Number(values.workers ?? (values.short ? 1 : 2)),
};
if (values['cpu-prof']) process.env[CPU_PROFILE_DIR_ENV] = PROFILE_DIR;
const run = { date: new Date().toISOString(), mode: ctx.short ? 'short' : 'full', profile: ctx.profile, machine: await machine() };

for (const name of positionals.length > 0 ? positionals : Object.keys(scenarios)) {
  const started = Date.now();
  const result = await scenarios[name]!(ctx);
  const file = await writeResult(result, run);
  console.log(`${markdownTable(result)}\n\n(${((Date.now() - started) / 1000).toFixed(1)} s; ${file})\n`);
}
