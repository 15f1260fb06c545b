// The `task_groups` table: one row per group; its tasks are rows of `tasks`
// with group_id set. The group's counters are not stored: they are counted
// from its tasks when it is shown.

import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type {
  BandwidthPeriod,
  DestinationNode,
  SmnConfig,
  SourceNode,
  TaskOptions,
} from '../tasks/task.entity.js';
import { GroupStatus } from './task-group-state.js';

export const GROUP_TASK_TYPES = ['PREFIX', 'LIST', 'URL_LIST'] as const;
export type GroupTaskType = (typeof GROUP_TASK_TYPES)[number];

/** The CDN to read the source through, without its key (which is sealed with the secrets). */
export interface SourceCdn {
  domain: string;
  protocol: string;
  authentication_type?: string;
}

/** The group's options, and each of its tasks' (`tasks.options`): the task switches and these. */
export interface GroupOptions extends TaskOptions {
  /** The tasks' own shape: copied to every task the group creates. */
  smn_config?: SmnConfig;
  source_cdn?: SourceCdn;
}

@Entity('task_groups')
@Check('CHK_task_groups_status', `"status" BETWEEN 0 AND 9`)
@Check('CHK_task_groups_task_type', `"task_type" IN ('PREFIX', 'LIST', 'URL_LIST')`)
@Index('IDX_task_groups_project_created', ['projectId', 'createdAt', 'id'])
export class TaskGroupEntity {
  /** A UUID, issued by the service. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  @Column({ type: 'smallint' })
  status: GroupStatus;

  @Column({ type: 'varchar', length: 255, default: '' })
  description: string;

  @Column({ name: 'task_type', type: 'varchar', length: 16 })
  taskType: GroupTaskType;

  @Column({ name: 'src_node', type: 'jsonb' })
  srcNode: SourceNode;

  @Column({ name: 'dst_node', type: 'jsonb' })
  dstNode: DestinationNode;

  @Column({ name: 'bandwidth_policy', type: 'jsonb', default: [] })
  bandwidthPolicy: BandwidthPeriod[];

  /** The flags and switches of the create body, shown back as given. */
  @Column({ type: 'jsonb', default: {} })
  options: GroupOptions;

  /** Sealed with TaskSecretsCipher (the group's id as the AAD's id); never selected by default. */
  @Column({ type: 'bytea', nullable: true, select: false })
  secrets: Buffer | null;

  @Column({ name: 'migrate_since', type: 'timestamptz', nullable: true })
  migrateSince: Date | null;

  @Column({ name: 'error_reason', type: 'jsonb', nullable: true })
  errorReason: { error_code: string; error_msg: string } | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
