// The bench's group-stop path: a task group of GROUP_TASKS tasks created
// through the API, then STOPS concurrent PUT stops of it sent at once. Each
// repetition times the stops (from sending them to the last answer, and to
// the one 200) and checks what the service promises: exactly one 200, every
// other stop 400 OMS.0066, and in the database every task of the group
// paused with exactly one group_stop audit row. A repetition that breaks any
// of that stops the bench, since its time would measure something else.
//
// Service only: the yardstick answers the task stop alone, and a group stop
// is a different statement, so there is nothing to compare it with.

import { withClient } from './bench-database.js';

export const GROUP_STOP = 'group-stop';
export const GROUP_TASKS = 1_000;
export const STOPS = 16;

/** Each repetition's own project, so no quota and no earlier group is in its way. */
const PROJECT_PREFIX = 'bench-group-';

export interface GroupStopRun {
  readonly repetition: number;
  /** From sending the stops to the last answer, in ms. */
  readonly allAnsweredMs: number;
  /** From sending the stops to the 200, in ms. */
  readonly okMs: number;
  /** The time to create the group of GROUP_TASKS tasks, in ms (not the measure). */
  readonly createMs: number;
}

export interface StopAnswer {
  readonly status: number;
  /** The OMS error code of the body, if it has one. */
  readonly code?: string;
}

export interface GroupRows {
  readonly tasks: number;
  readonly paused: number;
  readonly auditRows: number;
  readonly auditedTasks: number;
}

/** What is wrong with a repetition's outcome; empty when all is as promised. */
export function groupStopProblems(answers: readonly StopAnswer[], rows: GroupRows): string[] {
  const problems: string[] = [];
  const ok = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => a.status === 400 && a.code === 'OMS.0066').length;
  if (ok !== 1) problems.push(`${ok} stops answered 200, not 1`);
  if (ok + refused !== answers.length) {
    const others = answers
      .filter((a) => a.status !== 200 && !(a.status === 400 && a.code === 'OMS.0066'))
      .map((a) => `${a.status} ${a.code ?? ''}`.trim());
    problems.push(`answers other than 200 and 400 OMS.0066: ${others.join(', ')}`);
  }
  if (rows.tasks !== GROUP_TASKS) problems.push(`the group has ${rows.tasks} tasks`);
  if (rows.paused !== rows.tasks) problems.push(`${rows.paused} of ${rows.tasks} tasks paused`);
  if (rows.auditRows !== rows.tasks || rows.auditedTasks !== rows.tasks) {
    problems.push(
      `${rows.auditRows} group_stop audit rows for ${rows.auditedTasks} tasks, not one per task`,
    );
  }
  return problems;
}

/** A group body as OMS clients send it: PREFIX, one task per object_key entry. */
function groupBody(repetition: number): Record<string, unknown> {
  return {
    src_node: {
      cloud_type: 'Aliyun',
      region: 'cn-hangzhou',
      ak: 'BENCH-SRC-AK-000000001',
      sk: 'bench-src-secret-000000001',
      bucket: 'bench-src',
      object_key: Array.from({ length: GROUP_TASKS }, (_, i) => `r${repetition}/p${i}/`),
    },
    dst_node: {
      region: 'cn-north-4',
      ak: 'BENCH-DST-AK-000000002',
      sk: 'bench-dst-secret-000000002',
      bucket: 'bench-dst',
      save_prefix: 'copy/',
    },
    task_type: 'PREFIX',
    description: 'bench group',
  };
}

/**
 * Forgets every group project's rows, and moves the task id sequence past
 * the seeded ids: the seed inserts ids 1..TASKS by hand, so the sequence
 * would otherwise hand a group ids that are already taken. The not-found
 * path's ids (above TASKS) exist only while a group does, so the groups are
 * deleted after the path too.
 */
export async function clearGroupProjects(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    const like = `${PROJECT_PREFIX}%`;
    await client.query('DELETE FROM task_transitions WHERE project_id LIKE $1', [like]);
    await client.query('DELETE FROM tasks WHERE project_id LIKE $1', [like]);
    await client.query('DELETE FROM task_groups WHERE project_id LIKE $1', [like]);
    await client.query(
      `SELECT setval(pg_get_serial_sequence('tasks', 'id'), GREATEST(
         (SELECT max(id) FROM tasks), nextval(pg_get_serial_sequence('tasks', 'id'))))`,
    );
  });
}

async function groupRows(databaseUrl: string, groupId: string): Promise<GroupRows> {
  return withClient(databaseUrl, async (client) => {
    const tasks = await client.query(
      `SELECT count(*)::int AS tasks, count(*) FILTER (WHERE status = 3)::int AS paused
       FROM tasks WHERE group_id = $1`,
      [groupId],
    );
    const audit = await client.query(
      `SELECT count(*)::int AS rows, count(DISTINCT a.task_id)::int AS tasks
       FROM task_transitions a JOIN tasks t ON t.id = a.task_id
       WHERE t.group_id = $1 AND a.action = 'group_stop'`,
      [groupId],
    );
    return {
      tasks: tasks.rows[0].tasks,
      paused: tasks.rows[0].paused,
      auditRows: audit.rows[0].rows,
      auditedTasks: audit.rows[0].tasks,
    };
  });
}

const REQUEST_TIMEOUT_MS = 60_000;

async function answerOf(response: Response): Promise<StopAnswer> {
  const text = await response.text();
  const code = /"error_code":"([^"]+)"/.exec(text)?.[1];
  return { status: response.status, code };
}

/** One repetition against the service at `url`: create, stop ×STOPS, check. */
export async function groupStopRepetition(
  url: string,
  databaseUrl: string,
  repetition: number,
  tag: string,
): Promise<GroupStopRun> {
  const project = `${PROJECT_PREFIX}${tag}-${repetition}`;
  // A token the bench's IAM double accepts (see iam-double.ts). Create
  // validates it, so the stops find it in the token cache.
  const headers = { 'X-Auth-Token': `bench.${project}.member.${tag}` };
  const base = `${url}/v2/${project}/taskgroups`;

  const createStarted = performance.now();
  const created = await fetch(base, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(groupBody(repetition)),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const createdText = await created.text();
  if (created.status !== 200) {
    throw new Error(`group-stop: create answered ${created.status}: ${createdText}`);
  }
  const createMs = performance.now() - createStarted;
  const groupId = (JSON.parse(createdText) as { group_id: string }).group_id;

  const sent = performance.now();
  const answers = await Promise.all(
    Array.from({ length: STOPS }, async () => {
      const response = await fetch(`${base}/${groupId}/stop`, {
        method: 'PUT',
        headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const answer = await answerOf(response);
      return { ...answer, ms: performance.now() - sent };
    }),
  );
  const problems = groupStopProblems(answers, await groupRows(databaseUrl, groupId));
  if (problems.length > 0) {
    throw new Error(
      `group-stop repetition ${repetition} (group ${groupId}): ${problems.join('; ')}`,
    );
  }
  return {
    repetition,
    allAnsweredMs: Math.max(...answers.map((a) => a.ms)),
    okMs: answers.find((a) => a.status === 200)!.ms,
    createMs,
  };
}
