// What the data plane's protocol answers (docs/worker-protocol.md).

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TaskObject } from '../tasks/task-view.js';
import type { TaskSecrets } from '../tasks/task-secrets.js';
import type { TaskOptions } from '../tasks/task.entity.js';
import type { TaskStatus } from '../tasks/task-state.js';

export class LeaseKeys {
  @ApiPropertyOptional() src_ak?: string;
  @ApiPropertyOptional() src_sk?: string;
  @ApiPropertyOptional() src_security_token?: string;
  @ApiPropertyOptional() dst_ak?: string;
  @ApiPropertyOptional() dst_sk?: string;
  @ApiPropertyOptional() dst_security_token?: string;
  @ApiPropertyOptional() source_cdn_authentication_key?: string;
}

export class Lease {
  @ApiProperty({ format: 'uuid' }) lease_id!: string;
  @ApiProperty() task_id!: number;
  @ApiProperty() project_id!: string;
  @ApiProperty({ description: 'ms since the epoch, unless a heartbeat renews it' })
  expires_at!: number;
  @ApiProperty() heartbeat_interval_ms!: number;
  @ApiProperty({ type: TaskObject }) task!: TaskObject;
  @ApiProperty({ type: LeaseKeys, description: "The task's keys, for this worker only." })
  keys!: TaskSecrets;
  @ApiProperty({ type: 'object', additionalProperties: true }) options!: TaskOptions;
}

export class LeaseList {
  @ApiProperty({ type: [Lease] }) leases!: Lease[];
}

export class HeartbeatAnswer {
  @ApiProperty({ enum: ['continue', 'pause', 'abort'] })
  command!: 'continue' | 'pause' | 'abort';
  @ApiPropertyOptional({ description: "The task's status, while the lease holds." })
  status?: TaskStatus;
  @ApiPropertyOptional({ description: 'The renewed expiry, ms since the epoch.' })
  expires_at?: number;
  @ApiPropertyOptional({ enum: ['lease_lost', 'task_not_running'] })
  reason?: 'lease_lost' | 'task_not_running';
}

export class OutcomeAnswer {
  @ApiProperty({ description: "The task's status after the move." }) status!: TaskStatus;
}
