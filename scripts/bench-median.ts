import { readFileSync } from 'node:fs';
import { formatTable, type BenchReport } from './bench-report.js';

/**
 * `npx tsx scripts/bench-median.ts FILE...`: reads the JSON lines that `npm run bench` printed
 * (any other lines in the files are skipped) and prints the same table with the median of every
 * figure across the runs. Ratios are the median of each run's own ratio, not the ratio of medians.
 */

function readReports(files: readonly string[]): BenchReport[] {
  const reports: BenchReport[] = [];
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.startsWith('{"bench":')) continue;
      const value = JSON.parse(line) as { bench?: unknown };
      if (value.bench === 'stripe-webhook-pipeline') reports.push(value as BenchReport);
    }
  }
  return reports;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] ?? Number.NaN;
  return ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/**
 * Replaces every number in `first` by the median of the numbers at the same place in all values.
 * Non-numbers are taken from `first`; a place missing from some run takes the median of the rest.
 */
function medianOf(values: readonly unknown[]): unknown {
  const [first] = values;
  if (typeof first === 'number') return median(values.filter((value): value is number => typeof value === 'number'));
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return first;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(first)) {
    result[key] = medianOf(values.map((value) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined)));
  }
  return result;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('Usage: npx tsx scripts/bench-median.ts FILE... (files holding the output of `npm run bench`)');
  process.exit(2);
}
const reports = readReports(files);
if (reports.length === 0) {
  console.error(`No bench report line (starting with {"bench":) was found in ${files.join(', ')}.`);
  process.exit(1);
}

const combined = medianOf(reports) as BenchReport;
console.log(`Median of ${reports.length} runs (${reports.map((report) => report.startedAt).join(', ')})\n`);
console.log(formatTable(combined));
console.log(JSON.stringify({ ...combined, runs: reports.length }));
