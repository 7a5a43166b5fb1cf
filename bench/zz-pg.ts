import postgres from 'postgres';
const sql = postgres('postgres://postgres@127.0.0.1:5432/postgres', { max: 20, onnotice: () => {} });
await sql`create temp table if not exists x (id int)`.catch(() => {});
const q = `update pg_catalog.pg_class set relname = relname where relname = $1 and relpages < $2 returning oid`;
async function run(name: string, prepare: boolean) {
  let n = 0; const end = performance.now() + 3000;
  await Promise.all(Array.from({ length: 32 }, async () => { while (performance.now() < end) { await sql.unsafe(`select oid from pg_class where relname = $1 and relpages < $2 and reltuples > $3`, ['nope' + n, 5, -1], { prepare }); n++; } }));
  console.log(name, Math.round(n / 3), '/s');
}
await run('warm', false);
await run('unprepared', false);
await run('prepared', true);
await run('unprepared', false);
await run('prepared', true);
await sql.end();
