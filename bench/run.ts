/**
 * `npm run bench`: every benchmark, each in a process of its own (own database, own queue prefix),
 * one after the other so they do not compete for the two cores. Writes bench/results/<date>.json and
 * bench/results/<date>.md with the figures of all of them.
 * Select some with `npm run bench -- create dispatch`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const ALL = ['create', 'dispatch', 'verify', 'overview', 'scale'] as const;
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ALL];
const results = fileURLToPath(new URL('./results/', import.meta.url));
const date = new Date().toISOString().slice(0, 10);

// A partial run (`npm run bench -- verify`) updates its entries in the day's file and keeps the rest.
const combined = `${results}${date}.json`;
const outcome: Record<string, unknown> = existsSync(combined)
  ? (JSON.parse(readFileSync(combined, 'utf8')) as { benchmarks: Record<string, unknown> }).benchmarks
  : {};
for (const name of chosen) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))], {
    stdio: 'inherit',
  });
  const file = `${results}${name}-${date}.json`;
  outcome[name] =
    run.status === 0 && existsSync(file)
      ? { seconds: Math.round((Date.now() - started) / 1000), ...JSON.parse(readFileSync(file, 'utf8')) }
      : { failed: true, exitCode: run.status };
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
writeFileSync(combined, `${JSON.stringify({ date, machine, benchmarks: outcome }, null, 2)}\n`);
console.log(`\nwrote ${combined}`);
