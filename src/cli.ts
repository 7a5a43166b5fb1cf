import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { createApiKey, type Role } from './services/api-keys.js';

const USAGE = `usage:
  secondcall migrate
  secondcall keys create --role admin|ops|agent --name NAME [--agent AGENT_ID]`;

async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  const config = loadConfig();
  if (command === 'migrate') {
    await runMigrations(config.DATABASE_URL);
    console.log('migrations applied');
    return 0;
  }
  if (command === 'keys' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { role: { type: 'string' }, name: { type: 'string' }, agent: { type: 'string' } },
    });
    const role = values.role as Role | undefined;
    if (!role || !['admin', 'ops', 'agent'].includes(role) || !values.name) {
      console.error(USAGE);
      return 2;
    }
    await runMigrations(config.DATABASE_URL);
    const database = connectDatabase(config.DATABASE_URL, { max: 1 });
    try {
      const key = await createApiKey(database.db, { role, name: values.name, agentId: values.agent ?? null });
      console.log(`created ${role} key ${key.id} (${key.name}); store it now, it is not shown again:`);
      // The key alone on the last line, so scripts can take it with `tail -n 1`.
      console.log(key.key);
    } finally {
      await database.close();
    }
    return 0;
  }
  console.error(USAGE);
  return 2;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
