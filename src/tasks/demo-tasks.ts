// A few tasks for the development default, so that `npm start` has
// something to pause (the migrating ones, which the demo worker holds and
// moves along), something to start (the paused one) and a finished one,
// whose start is refused (OMS.0070). Only ever used with the embedded
// database.

import type { DataSource } from 'typeorm';
import { execute } from '../database/statement.js';
import { TaskStatus } from './task-state.js';
import { COUNT_TASKS, INSERT_DEMO_TASK, TASK_IDS_IN_STATUS } from './task.sql.js';

const DEMO_TASKS: [name: string, status: TaskStatus][] = [
  ['demo-photos', TaskStatus.Migrating],
  ['demo-logs', TaskStatus.Migrating],
  ['demo-backups', TaskStatus.Migrating],
  ['demo-archive', TaskStatus.Paused],
  ['demo-finished', TaskStatus.Succeeded],
];

/** Inserts the demo tasks unless the project has tasks; returns its migrating task ids. */
export async function seedDemoTasks(db: DataSource, projectId: string): Promise<string[]> {
  await db.transaction(async (tx) => {
    const [{ count }] = await execute(tx, COUNT_TASKS, { projectId });
    if (count > 0) return;
    for (const [name, status] of DEMO_TASKS) {
      await execute(tx, INSERT_DEMO_TASK, { projectId, name, status });
    }
  });
  const rows = await execute(db, TASK_IDS_IN_STATUS, { projectId, status: TaskStatus.Migrating });
  return rows.map((row) => row.id);
}
