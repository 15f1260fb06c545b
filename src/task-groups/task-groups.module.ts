import { Module } from '@nestjs/common';
import { TasksModule } from '../tasks/tasks.module.js';
import { TaskGroupsController } from './task-groups.controller.js';
import { TaskGroupsService } from './task-groups.service.js';

@Module({
  imports: [TasksModule],
  controllers: [TaskGroupsController],
  providers: [TaskGroupsService],
})
export class TaskGroupsModule {}
