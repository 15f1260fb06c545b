// Body rules that span several fields, which class-validator's per-field
// decorators cannot say. Pure functions, so each rule is unit-tested alone.

import { InvalidParameter } from '../common/oms-errors.js';
import type { BandwidthPeriod, SourceNode, TaskType } from './task.entity.js';

const MINUTES_PER_DAY = 24 * 60;

function minutes(hhmm: string): number {
  const [hours, mins] = hhmm.split(':').map(Number);
  return hours * 60 + mins;
}

/** A period as half-open minute ranges of one day; one past midnight becomes two. */
function ranges({ start, end }: BandwidthPeriod): [number, number][] {
  const from = minutes(start);
  const to = minutes(end);
  return from < to
    ? [[from, to]]
    : [
        [from, MINUTES_PER_DAY],
        [0, to],
      ];
}

/** Periods must be non-empty and must not overlap (OMS: "时段不能重叠"). */
export function checkBandwidthPolicy(periods: readonly BandwidthPeriod[]): void {
  periods.forEach((period, index) => {
    if (period.start === period.end) {
      throw new InvalidParameter(
        `bandwidth_policy[${index}]: start and end are both ${period.start}; a period must not be empty.`,
      );
    }
  });
  for (let a = 0; a < periods.length; a++) {
    for (let b = a + 1; b < periods.length; b++) {
      const overlap = ranges(periods[a]).some(([aFrom, aTo]) =>
        ranges(periods[b]).some(([bFrom, bTo]) => aFrom < bTo && bFrom < aTo),
      );
      if (overlap) {
        throw new InvalidParameter(
          `bandwidth_policy[${a}] (${periods[a].start}-${periods[a].end}) and ` +
            `bandwidth_policy[${b}] (${periods[b].start}-${periods[b].end}) overlap.`,
        );
      }
    }
  }
}

/**
 * What the task type needs from the source: object and prefix tasks name
 * their objects or prefixes in object_key, list and url_list tasks read a
 * list file. Giving the other one is a mistake the caller should hear about.
 */
export function checkSourceForTaskType(taskType: TaskType, source: SourceNode): void {
  const usesList = taskType === 'list' || taskType === 'url_list';
  if (usesList) {
    if (!source.list_file) {
      throw new InvalidParameter(`src_node.list_file is required for task_type ${taskType}.`);
    }
    if (source.object_key) {
      throw new InvalidParameter(`src_node.object_key is not used by task_type ${taskType}.`);
    }
  } else {
    if (!source.object_key) {
      throw new InvalidParameter(`src_node.object_key is required for task_type ${taskType}.`);
    }
    if (source.list_file) {
      throw new InvalidParameter(`src_node.list_file is not used by task_type ${taskType}.`);
    }
  }
}
