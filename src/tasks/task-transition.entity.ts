// The audit trail: one row per status change, written in the same statement
// as the change itself. No foreign key to tasks, so the trail outlives a
// deleted task.

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TaskStatus, type TaskActionName } from './task-state.js';

@Entity('task_transitions')
@Index('IDX_task_transitions_task', ['taskId'])
export class TaskTransitionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'task_id', type: 'bigint' })
  taskId: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  /** A TASK_ACTIONS name, or "create". */
  @Column({ type: 'varchar', length: 16 })
  action: TaskActionName | 'create';

  /** NULL for the row that records the task's creation. */
  @Column({ name: 'from_status', type: 'smallint', nullable: true })
  fromStatus: TaskStatus | null;

  /** NULL for the row that records the task's deletion. */
  @Column({ name: 'to_status', type: 'smallint', nullable: true })
  toStatus: TaskStatus | null;

  /** Who made the change: an IAM user id, or "scheduler". */
  @Column({ name: 'user_id', type: 'varchar', length: 255 })
  userId: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
