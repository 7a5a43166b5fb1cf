#!/usr/bin/env node
// `npx secondcall ...`: the CLI (migrate, keys create); `npx secondcall serve [api|worker|all]` runs the service.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [command, ...rest] = process.argv.slice(2);
const entry = command === 'serve' ? '../src/main.ts' : '../src/cli.ts';
const args = command === 'serve' ? rest : process.argv.slice(2);
const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url)), ...args], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
