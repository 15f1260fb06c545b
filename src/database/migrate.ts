// Runs pending migrations at start-up. Replicas that start together would
// race in TypeORM's runner, which takes no lock, so the whole run happens on
// one connection that holds a PostgreSQL advisory lock; the others wait for
// it and then find nothing left to do. The session runs without the
// requests' statement timeout: waiting for the lock, or a migration that
// rewrites a large table, may take longer (DATABASE_STATEMENT_TIMEOUT_MS is
// a bound for requests, not for releases).

import { MigrationExecutor, type DataSource } from 'typeorm';
import { LOCK_MIGRATIONS, UNLOCK_MIGRATIONS } from './advisory-locks.js';
import { execute, NO_STATEMENT_TIMEOUT, RESET_STATEMENT_TIMEOUT } from './statement.js';

export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await execute(runner, NO_STATEMENT_TIMEOUT);
    await execute(runner, LOCK_MIGRATIONS);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await execute(runner, UNLOCK_MIGRATIONS);
    }
  } finally {
    await execute(runner, RESET_STATEMENT_TIMEOUT).catch(() => undefined);
    await runner.release();
  }
}
