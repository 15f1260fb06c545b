// The service's log: one JSON object per line on stdout, with time, level,
// msg, context and, for a line about a request, its request_id: whoever
// logs about a request names it (an object message's requestId), because
// keeping it in AsyncLocalStorage instead taxed every promise the service
// made (Node 20's async hooks; see BENCHMARKS.md). Nest's own messages
// come through here too (main.ts hands this logger to Nest). An object
// message is spread into the line; fields whose names say they hold a secret
// (tokens, keys, signatures, passwords) are replaced, whatever logs them.
//
// On a terminal the same lines are written as text a person reads (LOG_FORMAT
// says which; by default text on a TTY, JSON otherwise, so pipes and log
// collectors get JSON). Nest's start-up chatter (modules loaded, routes
// mapped) is logged at debug, not info: it says nothing an operator acts on.

import type { LoggerService } from '@nestjs/common';
import type { LogFormat, LogLevel } from '../config/config.js';

const RANK: Record<LogLevel, number> = {
  fatal: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  verbose: 5,
};

const SECRET_FIELD =
  /token|secret|password|passwd|authorization|signature|cookie|credential|access_?key|(^|_)(ak|sk)$/i;
const STACK_LIKE = /\n\s+at /;
const OWN_FIELDS = new Set(['time', 'level', 'context', 'request_id']);

/** Nest's contexts whose info lines only narrate start-up. */
const NEST_STARTUP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 4) return '[nested]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

/**
 * stdout, written once per event-loop turn instead of once per line. Under
 * load a turn answers several requests, and each write to a pipe is a system
 * call that also wakes the reader (stdout to a pipe is synchronous in Node).
 * A turn's lines still reach the pipe before the next turn starts waiting on
 * I/O, and whatever is pending when the process exits is written then.
 */
class TurnBatchedStdout {
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;
  /** A turn that logs this much writes at once: memory stays bounded. */
  private static readonly MAX_PENDING_CHARS = 64 * 1024;

  constructor() {
    process.on('exit', () => this.flush());
  }

  readonly write = (line: string): void => {
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= TurnBatchedStdout.MAX_PENDING_CHARS) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    process.stdout.write(text);
  };
}

const stdoutLines = new TurnBatchedStdout();

/** Writes the log lines still pending now (before writing to stdout directly). */
export const flushLog = stdoutLines.flush;

let isoMs = -1;
let isoText = '';

/** Now, in ISO 8601: formatted once per millisecond, however many lines share it. */
function isoTime(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * An access line's fields: the route's pattern, never the URL; the project
 * and task (or group, or sync task) as the path named them (bounded by the router, escaped here), the
 * user once authenticated, and the OMS error code of a refusal.
 */
export interface AnsweredRequest {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  readonly projectId?: string;
  readonly taskId?: string;
  readonly groupId?: string;
  readonly syncTaskId?: string;
  readonly userId?: string;
  readonly errorCode?: string;
}

/** The fields of a line in the order they are written. */
type LineFields = Record<string, unknown>;

export class JsonLogger implements LoggerService {
  private readonly maxRank: number;

  private readonly text: boolean;

  constructor(
    level: LogLevel,
    private readonly write: (line: string) => void = stdoutLines.write,
    format: Exclude<LogFormat, 'auto'> = 'json',
  ) {
    this.maxRank = RANK[level];
    this.text = format === 'text';
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('fatal', message, rest);
  }

  /**
   * One request's access line: the line every request writes, so it is
   * written as text rather than through emit(). Its fields are the service's
   * own and need no redaction; the line is the one
   * log({msg: 'request answered', requestId, ...}, 'Access') would give.
   * emit() took about three times as long (3 against 1 µs, measured alone).
   */
  requestAnswered(level: 'info' | 'debug', answer: AnsweredRequest): void {
    if (!this.isEnabled(level)) return;
    if (this.text) {
      this.write(
        textLine({
          time: isoTime(),
          level,
          context: 'Access',
          msg: `${answer.method} ${answer.route} ${answer.status} ${answer.durationMs} ms`,
          error_code: answer.errorCode,
          project_id: answer.projectId,
          task_id: answer.taskId,
          group_id: answer.groupId,
          sync_task_id: answer.syncTaskId,
          user_id: answer.userId,
          request_id: answer.requestId,
        }),
      );
      return;
    }
    this.write(
      `{"time":"${isoTime()}","level":"${level}","msg":"request answered","context":"Access",` +
        `"request_id":${JSON.stringify(answer.requestId)},` +
        `"method":${JSON.stringify(answer.method)},"route":${JSON.stringify(answer.route)},` +
        `"status":${answer.status},"duration_ms":${answer.durationMs}` +
        optionalField('project_id', answer.projectId) +
        optionalField('task_id', answer.taskId) +
        optionalField('group_id', answer.groupId) +
        optionalField('sync_task_id', answer.syncTaskId) +
        optionalField('user_id', answer.userId) +
        optionalField('error_code', answer.errorCode) +
        '}\n',
    );
  }

  isEnabled(level: LogLevel): boolean {
    return RANK[level] <= this.maxRank;
  }

  private emit(level: LogLevel, message: unknown, rest: unknown[]): void {
    // Nest's convention: the context comes last; error() may put a stack before it.
    const last = rest.at(-1);
    const hasContext = typeof last === 'string' && !STACK_LIKE.test(last);
    const context = hasContext ? last : undefined;
    if (level === 'info' && context !== undefined && NEST_STARTUP_CONTEXTS.has(context)) {
      level = 'debug';
    }
    if (!this.isEnabled(level)) return;
    const stack =
      rest.length > (hasContext ? 1 : 0) && typeof rest[0] === 'string' ? rest[0] : undefined;

    // Built field by field (no copies, no deletes): every request writes one.
    const line: Record<string, unknown> = {
      time: isoTime(),
      level,
      msg: '',
      context,
      request_id: undefined,
    };
    if (message instanceof Error) {
      line.msg = `${message.name}: ${message.message}`;
      line.stack = message.stack;
    } else if (message !== null && typeof message === 'object') {
      for (const [key, value] of Object.entries(message)) {
        if (key === 'msg') {
          if (typeof value === 'string') line.msg = value;
        } else if (key === 'requestId') {
          if (typeof value === 'string') line.request_id = value;
        } else if (!OWN_FIELDS.has(key)) {
          // The line's own fields are ours; a message cannot overwrite them.
          line[key] = SECRET_FIELD.test(key) ? '[redacted]' : redact(value, 1);
        }
      }
    } else {
      line.msg = String(message);
    }
    if (stack !== undefined) line.stack = stack;
    if (this.text) {
      this.write(textLine(line));
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      // A BigInt or a cycle in the fields: keep the line, lose the fields.
      const { time, msg, request_id } = line;
      text = JSON.stringify({ time, level, msg, context, request_id, unserializable: true });
    }
    this.write(text + '\n');
  }
}

function optionalField(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`;
}

/**
 * `21:12:35.123 INFO  Access  POST /v2/:project_id/tasks 200 3.1 ms  project_id=…`:
 * the time of day (the date is in JSON lines, and a terminal session is
 * short), the level, the context, the message, then the other fields as
 * name=value, strings quoted only when they hold spaces or quotes.
 */
function textLine(line: LineFields): string {
  const { time, level, context, msg, stack, ...fields } = line;
  let text = `${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} `;
  if (context !== undefined) text += `${String(context)}  `;
  text += String(msg);
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) text += ` ${name}=${textValue(value)}`;
  }
  if (typeof stack === 'string') text += `\n${stack}`;
  return text + '\n';
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '[unserializable]';
  }
}
