import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule, systemClock, type Clock } from './common/clock.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { IamModule } from './iam/iam.module.js';
import type { AccessKeyStore } from './iam/access-key.js';
import type { TokenValidator } from './iam/caller.js';
import { LimitsModule } from './limits/limits.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import type { Metrics } from './metrics/metrics.js';
import { TaskGroupsModule } from './task-groups/task-groups.module.js';
import { SyncTasksModule } from './sync-tasks/sync-tasks.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { ReferenceModule } from './reference/reference.module.js';
import { VersionsModule } from './versions/versions.module.js';
import { WorkerModule } from './worker/worker.module.js';

export interface AppDependencies {
  readonly config: AppConfig;
  /** Where PostgreSQL is: DATABASE_URL, or the embedded database's URL. */
  readonly databaseUrl: string;
  /** Keystone, or the development IAM. */
  readonly tokenValidator: TokenValidator;
  /** Secrets for access-key signatures; without one, signed requests get 401. */
  readonly accessKeyStore?: AccessKeyStore;
  /** What the service reads the time from (default: the system's); tests pass a manual one. */
  readonly clock?: Clock;
}

@Module({})
export class AppModule {
  static register(
    { config, databaseUrl, tokenValidator, accessKeyStore, clock }: AppDependencies,
    metrics: Metrics,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        ClockModule.register(clock ?? systemClock),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config, databaseUrl),
          // Fail fast with a clear message rather than retry for half a minute.
          retryAttempts: 2,
          retryDelay: 1000,
        }),
        MetricsModule.register(metrics),
        LimitsModule,
        IamModule.register(tokenValidator, accessKeyStore),
        TasksModule,
        TaskGroupsModule,
        SyncTasksModule,
        VersionsModule,
        EventsModule,
        HealthModule,
        ReferenceModule,
        WorkerModule,
      ],
    };
  }
}
