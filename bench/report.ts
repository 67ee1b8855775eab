/** What a run records: the machine, the versions, each scenario's parameters and figures, and a markdown table. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface Figure {
  name: string;
  unit: string;
  value: number;
  /** The same figure measured on the bare-ws baseline, when it has one. */
  baseline?: number;
  /** True when a higher value is better (rates), false when lower is (latencies, memory). */
  higherIsBetter: boolean;
}

export interface ScenarioResult {
  scenario: string;
  parameters: Record<string, unknown>;
  figures: Figure[];
  /** What a reader needs to judge the figures: targets met or missed, caveats. */
  notes: string[];
}

const VERSIONED_PACKAGES = ['fastify', '@fastify/websocket', 'ws', 'pg', 'mysql2', 'ioredis', '@electric-sql/pglite', 'kysely', 'zod'];

async function packageVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(`node_modules/${name}/package.json`, 'utf8')) as { version: string };
  return manifest.version;
}

export async function machine() {
  const project = JSON.parse(await readFile('package.json', 'utf8')) as { name: string; version: string };
  const versions = Object.fromEntries(await Promise.all(VERSIONED_PACKAGES.map(async (p) => [p, await packageVersion(p)] as const)));
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    project: `${project.name}@${project.version}`,
    packages: versions,
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** p50, p95 and p99 of samples in milliseconds, as figures. */
export function latencyFigures(prefix: string, samples: number[], baseline?: number[]): Figure[] {
  const sorted = Float64Array.from(samples).sort();
  const base = baseline && Float64Array.from(baseline).sort();
  return [50, 95, 99].map((p) => ({
    name: `${prefix} p${p}`,
    unit: 'ms',
    value: percentile(sorted, p),
    baseline: base ? percentile(base, p) : undefined,
    higherIsBetter: false,
  }));
}

/**
 * How the chat server compares with the baseline, oriented so that 1.00 is "as good" and less is worse. Every figure
 * here is a count, rate, time or size, so a value that is not positive is measurement noise and has no ratio.
 */
export function ratioToBaseline(f: Figure): number | undefined {
  if (f.baseline === undefined || f.baseline <= 0 || f.value <= 0) return undefined;
  return f.higherIsBetter ? f.value / f.baseline : f.baseline / f.value;
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));

export function markdownTable(result: ScenarioResult): string {
  const lines = [`### ${result.scenario}`, '', `parameters: ${JSON.stringify(result.parameters)}`, '', '| figure | chat server | baseline | ratio |', '|---|---:|---:|---:|'];
  for (const f of result.figures) {
    const ratio = ratioToBaseline(f);
    lines.push(`| ${f.name} (${f.unit}) | ${round(f.value)} | ${f.baseline === undefined ? '—' : round(f.baseline)} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |`);
  }
  for (const note of result.notes) lines.push('', `- ${note}`);
  return lines.join('\n');
}

export async function writeResult(result: ScenarioResult, run: { profile: string } & Record<string, unknown>): Promise<string> {
  const date = new Date().toISOString().slice(0, 10);
  // The full profile is the one the issue's targets are about; another profile's results sit beside it, not over it.
  const file = `bench/results/${result.scenario}-${run.profile === 'full' ? '' : `${run.profile}-`}${date}.json`;
  await mkdir('bench/results', { recursive: true });
  const figures = result.figures.map((f) => ({ ...f, ratioToBaseline: ratioToBaseline(f) }));
  await writeFile(file, JSON.stringify({ ...run, scenario: result.scenario, parameters: result.parameters, figures, notes: result.notes }, null, 2) + '\n');
  return file;
}
