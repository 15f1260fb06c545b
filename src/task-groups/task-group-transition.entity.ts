// The groups' audit trail: one row per change of a group (create, stop,
// start, retry, update, delete), written in the same transaction as the
// change. Its statuses are GroupStatus values (task-group-state.ts). No
// foreign key to task_groups, so the trail outlives a deleted group; it is
// also what settles a lost answer to a group write (task-groups.service).

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { GroupStatus, type GroupAuditAction } from './task-group-state.js';

@Entity('task_group_transitions')
@Index('IDX_task_group_transitions_group', ['groupId', 'id'])
export class TaskGroupTransitionEntity {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'PK_task_group_transitions',
  })
  id: string;

  @Column({ name: 'group_id', type: 'varchar', length: 36 })
  groupId: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  @Column({ type: 'varchar', length: 16 })
  action: GroupAuditAction;

  /** NULL for the row that records the group's creation; for update, the same as to_status. */
  @Column({ name: 'from_status', type: 'smallint', nullable: true })
  fromStatus: GroupStatus | null;

  /** NULL for the row that records the group's deletion. */
  @Column({ name: 'to_status', type: 'smallint', nullable: true })
  toStatus: GroupStatus | null;

  @Column({ name: 'user_id', type: 'varchar', length: 255 })
  userId: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
