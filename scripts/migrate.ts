// `npm run migration:run`: applies pending migrations under the same
// advisory lock the service takes at start-up, so a release step and
// replicas starting at the same moment never migrate at once. (TypeORM's own
// `migration:run` takes no lock; the other migration commands use its CLI.)

import { dataSource } from '../src/database/data-source.js';
import { runMigrationsLocked } from '../src/database/migrate.js';

await dataSource.initialize();
try {
  const applied = await runMigrationsLocked(dataSource);
  console.log(applied.length === 0 ? 'No pending migrations.' : `Applied: ${applied.join(', ')}`);
} finally {
  await dataSource.destroy();
}
