// The `tasks` table. Operators may insert rows by hand with only id,
// project_id, name and status: every other column has a default.

import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TaskStatus } from './task-state.js';

/** Task ids must survive int64 SDKs and Terraform's float64: at most 15 digits. */
export const MAX_TASK_ID = 999_999_999_999_999;

@Entity('tasks')
@Check('CHK_tasks_id_range', `"id" BETWEEN 1 AND ${MAX_TASK_ID}`)
@Check('CHK_tasks_status', `"status" BETWEEN 1 AND 7`)
@Index('IDX_tasks_project_status', ['projectId', 'status'])
export class TaskEntity {
  // pg returns bigint as a string; ids stay strings inside the service.
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'smallint' })
  status: TaskStatus;

  @Column({ type: 'varchar', length: 255, default: '' })
  description: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
