/**
 * `mirror-chat audit export`: the replay's rows, whole, to a file (JSON lines or CSV). The file is written as the
 * history is opened, so a large group never sits in memory twice; progress goes to stderr when someone watches it.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { groupOption, jsonOption, print, withBackends, type Output } from '../command-kit.js';
import { auditColumns, groupHistory, inRange, rangeOf, rangeOptions, type AuditRow } from './history.js';

type Format = 'jsonl' | 'csv';

/** Below this many events the export is over before a bar could say anything. */
const BAR_FROM_EVENTS = 1000;

/** RFC 4180: a field holding a separator, quote or line break is quoted, its quotes doubled. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (values: Array<string | number | null>) => values.map(csvField).join(',') + '\r\n';

const lineOf = (format: Format, row: AuditRow) => (format === 'csv' ? csvLine(auditColumns.map((column) => row[column])) : JSON.stringify(row) + '\n');

function progressBar(events: number): cliProgress.SingleBar | null {
  if (!process.stderr.isTTY || events < BAR_FROM_EVENTS) return null;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'Exporting {bar} {value}/{total} events, {eta_formatted} left', clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(events, 0);
  return bar;
}

export function exportCommand(): Command {
  return new Command('export')
    .description("write a group's history, decrypted and whole, to a file: the rows of `audit replay`")
    .requiredOption(...groupOption)
    .requiredOption('--out <file>', 'the file to write; an existing one is left alone unless --force')
    .addOption(new Option('--format <format>', 'JSON lines, or CSV (default: csv when the file name ends in .csv)').choices(['jsonl', 'csv']))
    .option(...rangeOptions.from)
    .option(...rangeOptions.to)
    .option('--force', 'overwrite the file if it exists')
    .option(...jsonOption)
    .action(async (options: Output & { group: string; out: string; format?: Format; from?: number; to?: number; force?: boolean }) => {
      const out = resolve(options.out);
      const format = options.format ?? (out.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
      const range = rangeOf(options);
      await withBackends('mirror-chat audit', async (backends) => {
        const history = await groupHistory(backends, options.group);
        const file = createWriteStream(out, { flags: options.force ? 'w' : 'wx' });
        await once(file, 'open').catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EEXIST' ? new Error(`${out} already exists: choose another file, or give --force to overwrite it`) : error;
        });
        const bar = progressBar(history.events);
        let written = 0;
        try {
          if (format === 'csv') file.write(csvLine([...auditColumns]));
          for await (const row of history.rows) {
            bar?.increment();
            if (!inRange(range, row)) continue;
            if (!file.write(lineOf(format, row))) await once(file, 'drain');
            written++;
          }
          file.end();
          await finished(file);
        } catch (error) {
          // Half a history passes for a whole one too easily: none is left behind.
          file.destroy();
          await rm(out, { force: true });
          throw error;
        } finally {
          bar?.stop();
        }
        print(
          options,
          { groupId: options.group, file: out, format, rows: written, events: history.events },
          `Wrote ${written} rows (of ${history.events} events) of group ${options.group} to ${out} (${format}).`,
        );
      });
    });
}
