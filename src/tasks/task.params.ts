// Path parameters of the task routes, validated by the global ValidationPipe
// (a failure becomes 400 OMS.0064).

import { Length } from 'class-validator';
import { TaskNotFound } from '../common/oms-errors.js';
import { MAX_TASK_ID } from './task.entity.js';

export class ProjectPath {
  @Length(1, 1024)
  project_id: string;
}

export class TaskPath extends ProjectPath {
  @Length(1, 1024)
  task_id: string;
}

const TASK_ID_SHAPE = /^[1-9][0-9]{0,14}$/;

/**
 * A task id as the database knows it. Anything that cannot be one of our ids
 * (not canonical digits, above MAX_TASK_ID) is simply not found, as in OMS.
 */
export function parseTaskId(text: string): string {
  if (!TASK_ID_SHAPE.test(text) || Number(text) > MAX_TASK_ID) throw new TaskNotFound();
  return text;
}
