// Tells a database that cannot be reached (or answered too late) from a bug.
// The first becomes 503 OMS.2004; anything else stays an unexpected fault.

const UNREACHABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

// SQLSTATE classes and codes that mean "not now" rather than "wrong".
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout fired
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '53300', // too_many_connections
  '53000', // insufficient_resources
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);

const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection is not established',
  'connect ETIMEDOUT',
];

/** No pool to take a connection from: not connected yet, or shutting down. */
export class DatabaseNotConnected extends Error {
  constructor() {
    super('The database connection is not established.');
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseNotConnected) return true;
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (UNREACHABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (code.startsWith('08')) return true; // connection_exception class
    }
    if (typeof message === 'string' && UNREACHABLE_MESSAGES.some((m) => message.includes(m))) {
      return true;
    }
    // TypeORM wraps the driver's error; AggregateError wraps several attempts.
    const inner = current as { driverError?: unknown; cause?: unknown; errors?: unknown[] };
    current = inner.driverError ?? inner.cause ?? inner.errors?.[0];
  }
  return false;
}

// The server's own word that it undid the statement (cancelled by
// statement_timeout, chosen as a deadlock or serialization victim, lock not
// available): the session goes on and nothing of the statement stays.
const ROLLED_BACK_SQLSTATES = new Set(['57014', '40001', '40P01', '55P03']);

/**
 * The database went away while a statement ran, so it may have committed
 * before the answer was lost. Not so when the server said it undid it.
 */
export function mayHaveCommitted(error: unknown): boolean {
  if (!isDatabaseUnavailable(error)) return false;
  const { code, driverError } = error as { code?: unknown; driverError?: { code?: unknown } };
  const sqlState = typeof code === 'string' ? code : driverError?.code;
  return !(typeof sqlState === 'string' && ROLLED_BACK_SQLSTATES.has(sqlState));
}
