import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { TaskSecretsCipher } from '../tasks/task-secrets.js';
import { SyncTaskTransitions } from './sync-task-transitions.js';
import { SyncTasksController } from './sync-tasks.controller.js';
import { SyncTasksService } from './sync-tasks.service.js';

@Module({
  controllers: [SyncTasksController],
  providers: [
    SyncTasksService,
    SyncTaskTransitions,
    {
      // The task secrets' cipher and key (SECRETS_KEY), one mechanism for both.
      provide: TaskSecretsCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.secretsKey) throw new Error('No key for sync-task secrets (SECRETS_KEY)');
        return new TaskSecretsCipher(config.secretsKey);
      },
    },
  ],
})
export class SyncTasksModule {}
