// Every migration, in order. The service and the CLI both use this list; a
// glob over the build folder would also match this file.

import { CreateTasks1764352800000 } from './1764352800000-create-tasks.js';
import { TaskLifeCycle1764612000000 } from './1764612000000-task-life-cycle.js';
import { AcceptedSignatures1764800000000 } from './1764800000000-accepted-signatures.js';
import { ListById1796159365000 } from './1796159365000-list-by-id.js';
import { TaskGroups1796162100000 } from './1796162100000-task-groups.js';
import { SyncTasks1796164526433 } from './1796164526433-sync-tasks.js';
import { TaskGroupAudit1796170000000 } from './1796170000000-task-group-audit.js';
import { EventRelay1796170100000 } from './1796170100000-event-relay.js';
import { TaskLeases1796170200000 } from './1796170200000-task-leases.js';
import { TaskTrailIndex1796170300000 } from './1796170300000-task-trail-index.js';
import { HotStop1796170400000 } from './1796170400000-hot-stop.js';
import { NarrowTasks1796170500000 } from './1796170500000-narrow-tasks.js';
import { TasksKnowTheirLease1796170600000 } from './1796170600000-tasks-know-their-lease.js';
import { StopTakesNoRowLock1796170700000 } from './1796170700000-stop-takes-no-row-lock.js';

export const MIGRATIONS = [
  CreateTasks1764352800000,
  TaskLifeCycle1764612000000,
  AcceptedSignatures1764800000000,
  ListById1796159365000,
  TaskGroups1796162100000,
  SyncTasks1796164526433,
  TaskGroupAudit1796170000000,
  EventRelay1796170100000,
  TaskLeases1796170200000,
  TaskTrailIndex1796170300000,
  HotStop1796170400000,
  NarrowTasks1796170500000,
  TasksKnowTheirLease1796170600000,
  StopTakesNoRowLock1796170700000,
];
