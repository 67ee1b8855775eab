/**
 * `npm run bench -- [scenario ...] [--short] [--profile full|embedded] [--workers N]`: runs the named scenarios
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

const scenarios: Record<string, Scenario> = { fanout, saturation, history, 'catch-up': catchUp, connections };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    short: { type: 'boolean', default: false },
    profile: { type: 'string', default: 'full' },
    workers: { type: 'string' },
  },
});
const unknown = positionals.filter((name) => !(name in scenarios));
if (unknown.length > 0 || (values.profile !== 'full' && values.profile !== 'embedded')) {
  console.error(`usage: npm run bench -- [${Object.keys(scenarios).join('|')} ...] [--short] [--profile full|embedded] [--workers N]`);
  process.exit(2);
}
const ctx: BenchContext = {
  short: values.short,
  profile: values.profile,
  // Two cores: in short mode one generator leaves the server a core of its own; full size needs two to keep up.
  workers: Number(values.workers ?? (values.short ? 1 : 2)),
};
const run = { date: new Date().toISOString(), mode: ctx.short ? 'short' : 'full', profile: ctx.profile, machine: await machine() };

for (const name of positionals.length > 0 ? positionals : Object.keys(scenarios)) {
  const started = Date.now();
  const result = await scenarios[name]!(ctx);
  const file = await writeResult(result, run);
  console.log(`${markdownTable(result)}\n\n(${((Date.now() - started) / 1000).toFixed(1)} s; ${file})\n`);
}
