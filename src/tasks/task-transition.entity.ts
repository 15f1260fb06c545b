// The audit trail: one row per change of a task (a creation, a move, an
// edit), written in the same transaction as the change itself. No foreign
// key to tasks, so the trail outlives a deleted task.

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TaskStatus, type AuditAction } from './task-state.js';

@Entity('task_transitions')
// (task_id, id): a task's rows in order, for its trail's pages and its latest row.
@Index('IDX_task_transitions_task_id', ['taskId', 'id'])
export class TaskTransitionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'task_id', type: 'bigint' })
  taskId: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  /** "create", a TASK_ACTIONS name, or a TASK_EDITS name. */
  @Column({ type: 'varchar', length: 16 })
  action: AuditAction;

  /** NULL for the row that records the task's creation; for an edit, the same as to_status. */
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
