import { Module } from '@nestjs/common';
import { TaskTransitions } from './task-transitions.js';
import { TasksController } from './tasks.controller.js';
import { TasksService } from './tasks.service.js';

@Module({
  controllers: [TasksController],
  providers: [TasksService, TaskTransitions],
})
export class TasksModule {}
