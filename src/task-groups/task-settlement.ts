// A group follows its tasks: once the data plane has moved one of them (a
// worker's outcome, the lease sweep), the group's status is settled by
// GROUP_SETTLEMENTS (task-group-state.ts) in one short transaction under the
// group's row lock, so concurrent outcomes of one group settle one after the
// other and the last one sees every task's final status.

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { execute } from '../database/statement.js';
import { TaskStatus } from '../tasks/task-state.js';
import { GROUP_SETTLEMENTS, type GroupStatus } from './task-group-state.js';
import { GROUP_TASK_COUNTS, LOCK_GROUP_OF_TASK, SET_GROUP_STATUS } from './task-group.sql.js';

@Injectable()
export class TaskSettlement {
  constructor(private readonly db: DataSource) {}

  /** Settles the group of the task, if it has one; says the group's new status, if it moved. */
  async settleTask(
    projectId: string,
    taskId: string,
    requestId: string,
  ): Promise<GroupStatus | undefined> {
    return this.db.transaction(async (tx) => {
      const [group] = await execute(tx, LOCK_GROUP_OF_TASK, { taskId, projectId });
      if (group === undefined) return undefined;
      const key = { groupId: group.group_id, projectId };
      const [counts] = await execute(tx, GROUP_TASK_COUNTS, {
        ...key,
        pausing: TaskStatus.Pausing,
        succeeded: TaskStatus.Succeeded,
        failed: TaskStatus.Failed,
      });
      const settlement = GROUP_SETTLEMENTS.find(
        (row) => row.from === group.status && row.when(counts),
      );
      if (settlement === undefined) return undefined;
      await execute(tx, SET_GROUP_STATUS, {
        ...key,
        from: group.status,
        to: settlement.to,
        action: settlement.name,
        // The group follows its tasks: nobody asked for this move.
        userId: 'settlement',
        requestId,
      });
      return settlement.to;
    });
  }
}
