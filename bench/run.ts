/**
 * `npm run bench`: every benchmark, each in a process of its own (own database, own queue prefix),
 * one after the other so they do not compete for the two cores. Writes bench/results/<date>.json and
 * bench/results/<date>.md (bench/report.ts) with the figures of all of them; exits non-zero when one
 * failed. The soak runs last: it takes 5 minutes (SOAK_SECONDS) and needs the machine to itself.
 * Select some with `npm run bench -- create dispatch`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeMarkdownReport } from './report.js';

const ALL = ['create', 'dispatch', 'verify', 'overview', 'scale', 'soak'] as const;
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ALL];
const results = fileURLToPath(new URL('./results/', import.meta.url));
const date = new Date().toISOString().slice(0, 10);

// A partial run (`npm run bench -- verify`) updates its entries in the day's file and keeps the rest.
const combined = `${results}${date}.json`;
const outcome: Record<string, unknown> = existsSync(combined)
  ? (JSON.parse(readFileSync(combined, 'utf8')) as { benchmarks: Record<string, unknown> }).benchmarks
  : {};
let failures = 0;
for (const name of chosen) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))], {
    stdio: 'inherit',
  });
  const file = `${results}${name}-${date}.json`;
  const wallSeconds = Math.round((Date.now() - started) / 1000);
  // A benchmark that fails its own check (the soak, on errors) still writes its figures: keep them.
  const written = existsSync(file) && statSync(file).mtimeMs >= started;
  const failed = run.status !== 0 ? { failed: true, exitCode: run.status } : {};
  if (run.status !== 0) failures++;
  outcome[name] = written ? { ...JSON.parse(readFileSync(file, 'utf8')), wallSeconds, ...failed } : { wallSeconds, ...failed };
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
writeFileSync(combined, `${JSON.stringify({ date, machine, benchmarks: outcome }, null, 2)}\n`);
console.log(`\nwrote ${combined}\nwrote ${writeMarkdownReport(combined)}`);
if (failures > 0) {
  console.error(`${failures} benchmark(s) failed`);
  process.exitCode = 1;
}
