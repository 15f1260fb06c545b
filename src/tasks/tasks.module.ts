import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { TaskBatchUpdate } from './task-batch-update.js';
import { TaskScheduler } from './task-scheduler.js';
import { TaskSecretsCipher } from './task-secrets.js';
import { TaskTransitions } from './task-transitions.js';
import { TasksController } from './tasks.controller.js';
import { TasksService } from './tasks.service.js';

@Module({
  controllers: [TasksController],
  providers: [
    TasksService,
    TaskTransitions,
    TaskScheduler,
    TaskBatchUpdate,
    {
      provide: TaskSecretsCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // main.ts supplies the development key when SECRETS_KEY is unset.
        if (!config.secretsKey) throw new Error('No key for task secrets (SECRETS_KEY)');
        return new TaskSecretsCipher(config.secretsKey);
      },
    },
  ],
  // The cipher too: task groups seal their secrets and their tasks' copies with it.
  exports: [TaskScheduler, TaskSecretsCipher, TaskTransitions],
})
export class TasksModule {}
