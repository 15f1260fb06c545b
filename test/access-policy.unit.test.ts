// Who may do what, from the contract's "Who may do what": the project must
// match for any access; writes also need a role that is neither read-only nor
// a mark of a restricted or suspended account.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Forbidden } from '../src/common/oms-errors.js';
import { AccessPolicy, type Access } from '../src/iam/access-policy.js';
import type { Caller } from '../src/iam/caller.js';

const DEFAULT_READ_ONLY = ['reader', 'readonly', 'viewer'];
const policy = new AccessPolicy(DEFAULT_READ_ONLY);

// Takes the project as an option, not a defaulted parameter: an explicit
// undefined (a domain-scoped token) must stay undefined.
function caller(
  roles: string[],
  scope: { projectId: string | undefined } = { projectId: 'p-1' },
): Caller {
  return {
    userId: 'u-1',
    userName: 'alice',
    projectId: scope.projectId,
    roles,
    expiresAt: Date.now() + 3_600_000,
  };
}

function forbidden(error: unknown): boolean {
  assert.ok(error instanceof Forbidden, `expected Forbidden, got ${String(error)}`);
  assert.equal(error.code, 'OMS.0206');
  return true;
}

const BOTH: Access[] = ['read', 'write'];

describe('the project', () => {
  for (const access of BOTH) {
    test(`a token of another project is Forbidden to ${access}`, () => {
      assert.throws(
        () => policy.authorize(caller(['admin'], { projectId: 'p-2' }), 'p-1', access),
        forbidden,
      );
    });

    test(`a domain-scoped token (no project) is Forbidden to ${access}`, () => {
      assert.throws(
        () => policy.authorize(caller(['admin'], { projectId: undefined }), 'p-1', access),
        forbidden,
      );
    });

    test(`project ids are compared exactly when asked to ${access}`, () => {
      for (const other of ['P-1', 'p-1 ', 'p-10', '']) {
        assert.throws(
          () => policy.authorize(caller(['admin'], { projectId: other }), 'p-1', access),
          forbidden,
        );
      }
    });
  }

  test('the messages tell the two cases apart', () => {
    assert.throws(
      () => policy.authorize(caller(['admin'], { projectId: 'p-2' }), 'p-1', 'read'),
      /another project/,
    );
    assert.throws(
      () => policy.authorize(caller(['admin'], { projectId: undefined }), 'p-1', 'read'),
      /not scoped to a project/,
    );
  });
});

describe('reading', () => {
  for (const roles of [
    ['reader'],
    ['readonly'],
    ['viewer'],
    ['reader', 'viewer'],
    ['member'],
    [],
    ['op_restricted'],
  ]) {
    test(`is allowed with roles [${roles.join(', ')}]`, () => {
      assert.doesNotThrow(() => policy.authorize(caller(roles), 'p-1', 'read'));
    });
  }
});

describe('writing', () => {
  for (const roles of [['member'], ['admin'], ['te_admin'], ['reader', 'member']]) {
    test(`is allowed with roles [${roles.join(', ')}]`, () => {
      assert.doesNotThrow(() => policy.authorize(caller(roles), 'p-1', 'write'));
    });
  }

  for (const roles of [
    ['reader'],
    ['readonly'],
    ['viewer'],
    ['reader', 'readonly', 'viewer'],
    [],
    ['op_restricted'],
    ['op_suspended'],
    ['member', 'op_restricted'],
    ['op_suspended', 'admin'],
    ['reader', 'op_restricted'],
  ]) {
    test(`is Forbidden with roles [${roles.join(', ')}]`, () => {
      assert.throws(() => policy.authorize(caller(roles), 'p-1', 'write'), forbidden);
    });
  }

  test('a restricted account is told so, even with a writer role', () => {
    assert.throws(
      () => policy.authorize(caller(['member', 'op_suspended']), 'p-1', 'write'),
      /restricted or suspended/,
    );
  });
});

describe('the read-only role list is configurable', () => {
  const custom = new AccessPolicy(['auditor', 'guest']);

  test('a configured read-only role may read but not write', () => {
    assert.doesNotThrow(() => custom.authorize(caller(['auditor']), 'p-1', 'read'));
    assert.throws(() => custom.authorize(caller(['auditor']), 'p-1', 'write'), forbidden);
    assert.throws(() => custom.authorize(caller(['auditor', 'guest']), 'p-1', 'write'), forbidden);
  });

  test('a default read-only role that is no longer listed may write', () => {
    assert.doesNotThrow(() => custom.authorize(caller(['reader']), 'p-1', 'write'));
  });

  test('the account marks still apply whatever the list says', () => {
    assert.throws(
      () => custom.authorize(caller(['member', 'op_restricted']), 'p-1', 'write'),
      forbidden,
    );
  });

  test('an empty list makes every other role a writer', () => {
    const open = new AccessPolicy([]);
    assert.doesNotThrow(() => open.authorize(caller(['reader']), 'p-1', 'write'));
    assert.throws(() => open.authorize(caller([]), 'p-1', 'write'), forbidden);
  });
});
