// The DataSource the TypeORM CLI uses (npm run migration:*). It reads the
// same validated configuration as the service; the embedded development
// database is owned by the running service, so the CLI needs DATABASE_URL.

import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source-options.js';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error(
    'The migration commands need DATABASE_URL. (The embedded development database ' +
      'is migrated by `npm start` itself.)',
  );
  process.exit(2);
}

export const dataSource = new DataSource(dataSourceOptions(config, config.databaseUrl));
