import { Injectable } from '@nestjs/common';
import { parseTaskId } from './task.params.js';
import { TaskTransitions, type Actor } from './task-transitions.js';

@Injectable()
export class TasksService {
  constructor(private readonly transitions: TaskTransitions) {}

  /** Pauses a migrating task (2 → 3). */
  async stop(projectId: string, taskId: string, actor: Actor): Promise<void> {
    await this.transitions.apply('stop', projectId, parseTaskId(taskId), actor);
  }
}
