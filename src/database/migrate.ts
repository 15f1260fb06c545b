// Runs pending migrations at start-up. Replicas that start together would
// race in TypeORM's runner, which takes no lock, so the whole run happens on
// one connection that holds a PostgreSQL advisory lock; the others wait for
// it and then find nothing left to do.

import { MigrationExecutor, type DataSource } from 'typeorm';

/** Arbitrary but fixed: "OMS" "MIGR" in ASCII. */
const MIGRATION_LOCK_KEY = '5713878855045203026';

export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
