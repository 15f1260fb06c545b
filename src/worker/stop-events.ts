// Stop events for a worker process, from the service's events on NATS
// (EVENTS_NATS_URL): a held task's subject is watched with a plain core-NATS
// subscription, so a stop reaches the worker in milliseconds instead of at
// its next heartbeat. The event is only a hint: the worker then heartbeats,
// and the heartbeat's answer (pause) is what it obeys. Lost events cost
// nothing but latency.

import { connect, type NatsConnection } from 'nats';
import { encodeSubjectToken } from '../events/subject-token.js';
import { TaskStatus } from '../tasks/task-state.js';
import type { StopSignals, WorkerLog } from './demo-worker.js';

/** Every event of one task: `[prefix.]oms.task.<project>.<task>.<action>`. */
export function taskEventsSubject(prefix: string, projectId: string, taskId: number): string {
  const subject = `oms.task.${encodeSubjectToken(projectId)}.${encodeSubjectToken(String(taskId))}.*`;
  return prefix === '' ? subject : `${prefix}.${subject}`;
}

/** A task moved to pausing: what a stop (or a group stop) of a held task is. */
function isStop(payload: Uint8Array): boolean {
  try {
    return (
      (JSON.parse(Buffer.from(payload).toString('utf8')) as { to_status?: unknown }).to_status ===
      TaskStatus.Pausing
    );
  } catch {
    return false;
  }
}

export class NatsStopSignals implements StopSignals {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly log: WorkerLog,
  ) {}

  static async connect(url: string, prefix: string, log: WorkerLog): Promise<NatsStopSignals> {
    // Keeps reconnecting for as long as the worker lives: heartbeats carry on meanwhile.
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, name: 'oms-demo-worker' });
    return new NatsStopSignals(nc, prefix, log);
  }

  watch(projectId: string, taskId: number, onStop: () => void): () => void {
    const subscription = this.nc.subscribe(taskEventsSubject(this.prefix, projectId, taskId), {
      callback: (error, message) => {
        if (error) this.log.warn('stop events: subscription failed', { error: error.message });
        else if (isStop(message.data)) onStop();
      },
    });
    return () => subscription.unsubscribe();
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
