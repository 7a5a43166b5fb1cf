import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { readdirSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { hashKey } from '../../src/services/api-keys.js';

const PG_BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const databases: string[] = [];

function freshDatabaseUrl(): string {
  const name = `sc_test_proc_${randomBytes(4).toString('hex')}`;
  databases.push(name);
  const url = new URL(PG_BASE);
  url.pathname = `/${name}`;
  return url.toString();
}

afterAll(async () => {
  const sql = postgres(PG_BASE, { max: 1, onnotice: () => {} });
  for (const name of databases) await sql`drop database if exists ${sql(name)} with (force)`;
  await sql.end();
});

function run(entry: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', QUEUE_PREFIX: `sctest-proc-${randomBytes(3).toString('hex')}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty', 'PORT'],
    ['DATABASE_URL', 'mysql://localhost/x', 'DATABASE_URL'],
    ['SMS_PROVIDER', 'pigeon', 'SMS_PROVIDER'],
    ['DEFAULT_REGION', 'usa', 'DEFAULT_REGION'],
    ['SECRET_KEY', 'short', 'SECRET_KEY'],
  ])('%s=%s prints the variable and why, and exits 1', async (name, value, mentioned) => {
    const proc = run('src/main.ts', ['api'], { [name]: value });
    expect(await proc.exited).toBe(1);
    expect(proc.output().stderr).toContain(`${mentioned}:`);
  });

  it('refuses to run in production without its own SECRET_KEY', async () => {
    const proc = run('src/main.ts', ['api'], { NODE_ENV: 'production' });
    expect(await proc.exited).toBe(1);
    expect(proc.output().stderr).toContain('SECRET_KEY: required in production');
  });
});

describe('CLI', () => {
  it('creates the database, applies migrations and prints a working admin key alone on the last line', async () => {
    const url = freshDatabaseUrl();
    const proc = run('src/cli.ts', ['keys', 'create', '--role', 'admin', '--name', 'first admin'], { DATABASE_URL: url });
    expect(await proc.exited).toBe(0);
    const key = proc.output().stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^sc_[A-Za-z0-9_-]{43}$/);
    const sql = postgres(url, { max: 1 });
    const rows = await sql`select role, name from api_keys where key_hash = ${hashKey(key)}`;
    await sql.end();
    expect(rows).toEqual([{ role: 'admin', name: 'first admin' }]);
  });

  it('rejects an unknown role with usage and exit 2', async () => {
    const proc = run('src/cli.ts', ['keys', 'create', '--role', 'root', '--name', 'x'], { DATABASE_URL: freshDatabaseUrl() });
    expect(await proc.exited).toBe(2);
    expect(proc.output().stderr).toContain('usage');
  });
});

describe('migrations', () => {
  it('three instances starting together apply each migration once', async () => {
    const url = freshDatabaseUrl();
    await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url)]);
    const sql = postgres(url, { max: 1 });
    const [applied] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    const [policy] = await sql`select count(*)::int as n from policies where category = 'default'`;
    await sql.end();
    expect(applied!.n).toBe(readdirSync('drizzle').filter((f) => f.endsWith('.sql')).length);
    expect(policy!.n).toBe(1);
  });
});

describe('the service process', () => {
  it('serves, then shuts down gracefully on SIGTERM with exit code 0', async () => {
    const port = await freePort();
    const proc = run('src/main.ts', ['api'], { DATABASE_URL: freshDatabaseUrl(), PORT: String(port), HOST: '127.0.0.1' });
    let health: Response | null = null;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
      if (!health) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health?.status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
