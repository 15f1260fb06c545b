// A few tasks for the development default, so that `npm start` has
// something to pause. Only ever used with the embedded database.

import type { DataSource } from 'typeorm';
import { TaskStatus } from './task-state.js';

const DEMO_TASKS: [name: string, status: TaskStatus][] = [
  ['demo-photos', TaskStatus.Migrating],
  ['demo-logs', TaskStatus.Migrating],
  ['demo-backups', TaskStatus.Migrating],
  ['demo-archive', TaskStatus.Paused],
];

/** Inserts the demo tasks unless the project has tasks; returns its migrating task ids. */
export async function seedDemoTasks(db: DataSource, projectId: string): Promise<string[]> {
  await db.transaction(async (tx) => {
    const [{ count }] = await tx.query(
      'SELECT count(*)::int AS count FROM tasks WHERE project_id = $1',
      [projectId],
    );
    if (count > 0) return;
    for (const [name, status] of DEMO_TASKS) {
      await tx.query('INSERT INTO tasks (project_id, name, status) VALUES ($1, $2, $3)', [
        projectId,
        name,
        status,
      ]);
    }
  });
  const rows: { id: string }[] = await db.query(
    'SELECT id FROM tasks WHERE project_id = $1 AND status = $2 ORDER BY id',
    [projectId, TaskStatus.Migrating],
  );
  return rows.map((row) => row.id);
}
