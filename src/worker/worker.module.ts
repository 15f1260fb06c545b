import { Module } from '@nestjs/common';
import { TaskSettlement } from '../task-groups/task-settlement.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { LeaseSweep } from './lease-sweep.js';
import { WorkerController } from './worker.controller.js';
import { WorkerService } from './worker.service.js';

@Module({
  imports: [TasksModule],
  controllers: [WorkerController],
  providers: [WorkerService, LeaseSweep, TaskSettlement],
})
export class WorkerModule {}
