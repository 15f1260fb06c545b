// POST /v2/{project_id}/tasks/batch-update: one bandwidth policy (and
// perhaps one priority) for many tasks, named by ids or by group. All or
// nothing (ours; OMS does not say): the tasks are locked, every one is
// checked, and only then are they all changed, each with its audit row, in
// one transaction; any task missing, another project's or in a status the
// edit is not allowed in refuses the whole batch and changes none. The write
// goes through auditedWrite like every other, so a lost COMMIT answer is
// settled by the batch's audit rows.

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidParameter, TaskNotFound } from '../common/oms-errors.js';
import { execute } from '../database/statement.js';
import { auditedWrite, inTransaction } from './audited-write.js';
import { checkBandwidthPolicy } from './task-body-rules.js';
import { TASK_EDITS, TaskEditRejected, type TaskEditName, type TaskStatus } from './task-state.js';
import type { MoveCaller } from './task-transitions.js';
import type { BatchUpdateTasksBody } from './task.bodies.js';
import { TASK_PRIORITIES } from './task.entity.js';
import { BATCH_UPDATE_TASKS, BATCH_UPDATE_WRITTEN, LOCK_BATCH_TASKS } from './task.sql.js';

@Injectable()
export class TaskBatchUpdate {
  constructor(private readonly db: DataSource) {}

  async update(
    projectId: string,
    body: BatchUpdateTasksBody,
    caller: MoveCaller,
    requestId: string,
  ): Promise<void> {
    if ((body.ids === undefined) === (body.group_id === undefined)) {
      throw new InvalidParameter('Exactly one of ids and group_id must be given.');
    }
    const policy = body.bandwidth_policy.map(({ start, end, max_bandwidth }) => ({
      start,
      end,
      max_bandwidth,
    }));
    checkBandwidthPolicy(policy);
    // An id named twice is the same task: one change, one audit row.
    const ids = body.ids && [...new Set(body.ids.map(String))];
    const edit: TaskEditName = body.task_priority ? 'batch_priority' : 'batch_update';
    const allowed: readonly TaskStatus[] = TASK_EDITS[edit].in;
    const named = { projectId, ids: ids ?? null, groupId: body.group_id ?? null };
    let locked: string[] = [];
    await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          const tasks = await connection.query(LOCK_BATCH_TASKS, named);
          if (tasks.length === 0 || (ids && tasks.length !== ids.length)) {
            throw new TaskNotFound();
          }
          const refused = tasks.find((task) => !allowed.includes(task.status));
          if (refused) throw new TaskEditRejected(edit, refused.id, refused.status);
          locked = tasks.map((task) => task.id);
          await connection.query(BATCH_UPDATE_TASKS, {
            projectId,
            ids: locked,
            policy,
            priority: body.task_priority ? TASK_PRIORITIES[body.task_priority] : null,
            action: edit,
            userId: caller.userId,
            requestId,
          });
          return true;
        }),
      findCommitted: async (tx) => {
        if (locked.length === 0) return undefined; // lost before the change was sent
        // The locks first, so that the audit rows read next are final.
        await execute(tx, LOCK_BATCH_TASKS, named);
        const [{ written }] = await execute(tx, BATCH_UPDATE_WRITTEN, {
          projectId,
          ids: locked,
          action: edit,
          requestId,
        });
        return written === locked.length ? true : undefined;
      },
    });
  }
}
