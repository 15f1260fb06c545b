// A database that is down or too slow must become 503 OMS.2004 ("nothing was
// changed, retry"); a bug must stay a 500. The errors below are shaped the way
// node, pg and TypeORM really shape them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, mayHaveCommitted } from '../src/database/database-errors.js';

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -111, syscall: 'connect' });
}

/** What pg's DatabaseError carries: the server's SQLSTATE in `code`. */
function pgError(code: string, message: string, severity = 'ERROR'): Error {
  return Object.assign(new Error(message), { name: 'error', code, severity, length: 100 });
}

const UNAVAILABLE: [string, unknown][] = [
  ['ECONNREFUSED', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
  ['ECONNRESET', nodeError('ECONNRESET', 'read ECONNRESET')],
  [
    'SQLSTATE 57P01 (admin shutdown)',
    pgError('57P01', 'terminating connection due to administrator command', 'FATAL'),
  ],
  [
    'SQLSTATE 57014 (statement timeout)',
    pgError('57014', 'canceling statement due to statement timeout'),
  ],
  ['SQLSTATE 08006 (connection failure)', pgError('08006', 'connection failure')],
  ['SQLSTATE 57P03 (starting up)', pgError('57P03', 'the database system is starting up', 'FATAL')],
  [
    'SQLSTATE 53300 (too many connections)',
    pgError('53300', 'sorry, too many clients already', 'FATAL'),
  ],
  ["pg's 'Connection terminated unexpectedly'", new Error('Connection terminated unexpectedly')],
  ["pg's connection timeout", new Error('timeout exceeded when trying to connect')],
  [
    'TypeORM-style wrapping of a refused connection',
    {
      message: 'wrapped',
      driverError: nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    },
  ],
  [
    'TypeORM-style wrapping of an admin shutdown',
    Object.assign(new Error('Query failed'), {
      driverError: pgError('57P01', 'terminating connection'),
    }),
  ],
  [
    "TypeORM's QueryFailedError around a statement timeout",
    new QueryFailedError(
      'UPDATE tasks SET status = 3',
      [],
      pgError('57014', 'canceling statement due to statement timeout'),
    ),
  ],
  [
    'an error whose cause is a refused connection',
    new Error('could not connect', {
      cause: nodeError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432'),
    }),
  ],
  [
    'an AggregateError of refused attempts (IPv6 then IPv4)',
    new AggregateError([
      nodeError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432'),
      nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    ]),
  ],
];

const NOT_UNAVAILABLE: [string, unknown][] = [
  ['a syntax error (42601)', pgError('42601', 'syntax error at or near "SELEC"')],
  [
    'a unique violation (23505)',
    pgError('23505', 'duplicate key value violates unique constraint "tasks_pkey"'),
  ],
  [
    'a check violation (23514)',
    pgError('23514', 'new row for relation "tasks" violates check constraint'),
  ],
  [
    "TypeORM's QueryFailedError around a unique violation",
    new QueryFailedError(
      'INSERT INTO tasks',
      [],
      pgError('23505', 'duplicate key value violates unique constraint'),
    ),
  ],
  [
    'TypeORM-style wrapping of a syntax error',
    { message: 'wrapped', driverError: pgError('42601', 'syntax error at or near "SELEC"') },
  ],
  ['a plain TypeError', new TypeError("Cannot read properties of undefined (reading 'status')")],
  ['a plain Error', new Error('something else went wrong')],
  ['undefined', undefined],
  ['null', null],
  ['a string', 'ECONNREFUSED'],
  ['a number', 57014],
];

for (const [what, error] of UNAVAILABLE) {
  test(`${what} means the database is unavailable`, () => {
    assert.equal(isDatabaseUnavailable(error), true);
  });
}

for (const [what, error] of NOT_UNAVAILABLE) {
  test(`${what} is not unavailability`, () => {
    assert.equal(isDatabaseUnavailable(error), false);
  });
}

test('a cycle of causes ends', () => {
  const a = new Error('a') as Error & { cause?: unknown };
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(isDatabaseUnavailable(a), false);
});

// A statement whose answer was lost may have committed; one the server said
// it undid has not (task-transitions.ts looks for the audit row only then).
const OUTCOME_UNKNOWN: [string, unknown][] = [
  ['ECONNRESET', nodeError('ECONNRESET', 'read ECONNRESET')],
  ["pg's 'Connection terminated unexpectedly'", new Error('Connection terminated unexpectedly')],
  ["pg's client-side 'Query read timeout'", new Error('Query read timeout')],
  [
    'SQLSTATE 57P01 (admin shutdown), which may come between commit and answer',
    pgError('57P01', 'terminating connection due to administrator command', 'FATAL'),
  ],
];
const ROLLED_BACK: [string, unknown][] = [
  ['SQLSTATE 57014 (statement timeout)', pgError('57014', 'canceling statement')],
  ['SQLSTATE 40P01 (deadlock victim)', pgError('40P01', 'deadlock detected')],
  ['SQLSTATE 40001 (serialization failure)', pgError('40001', 'could not serialize')],
  ['SQLSTATE 55P03 (lock not available)', pgError('55P03', 'could not obtain lock')],
  [
    'a statement timeout wrapped by TypeORM',
    new QueryFailedError('UPDATE tasks ...', [], pgError('57014', 'canceling statement')),
  ],
  ['a syntax error (not unavailability at all)', pgError('42601', 'syntax error')],
];

for (const [what, error] of OUTCOME_UNKNOWN) {
  test(`${what}: the statement may have committed`, () => {
    assert.equal(mayHaveCommitted(error), true);
  });
}

for (const [what, error] of ROLLED_BACK) {
  test(`${what}: the statement did not commit`, () => {
    assert.equal(mayHaveCommitted(error), false);
  });
}
