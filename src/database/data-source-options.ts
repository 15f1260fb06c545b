// The one definition of how the service talks to PostgreSQL, shared by the
// application and the TypeORM CLI (src/database/data-source.ts).

import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { TaskEntity } from '../tasks/task.entity.js';
import { TaskTransitionEntity } from '../tasks/task-transition.entity.js';
import { TaskGroupEntity } from '../task-groups/task-group.entity.js';
import { TaskGroupTransitionEntity } from '../task-groups/task-group-transition.entity.js';
import {
  SyncTaskEntity,
  SyncTaskEventEntity,
  SyncTaskTransitionEntity,
} from '../sync-tasks/sync-task.entity.js';
import { MIGRATIONS } from '../../migrations/index.js';

export const ENTITIES = [
  TaskEntity,
  TaskTransitionEntity,
  TaskGroupEntity,
  TaskGroupTransitionEntity,
  SyncTaskEntity,
  SyncTaskTransitionEntity,
  SyncTaskEventEntity,
];

export function dataSourceOptions(config: AppConfig, url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false, // the service runs them itself, under an advisory lock
    // The uuid-ossp extension is never needed and PGlite cannot create it.
    installExtensions: false,
    connectTimeoutMS: config.databaseConnectTimeoutMs,
    poolSize: config.databasePoolSize,
    extra: {
      // A statement that runs longer than this is cancelled by the server,
      // so a stuck lock or an overloaded database answers 503, not a hang.
      statement_timeout: config.databaseStatementTimeoutMs,
      // The same bound on the client side, for a server that stopped answering.
      query_timeout: config.databaseStatementTimeoutMs + 1000,
      idle_in_transaction_session_timeout: config.databaseStatementTimeoutMs * 2,
      keepAlive: true,
    },
  };
}
