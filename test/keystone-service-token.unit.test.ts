// The service identity's token: issued once and shared, re-issued shortly
// before it expires or when IAM stops taking it, and a refused password is
// a 503 (the operator's misconfiguration), never a caller's 401.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DependencyUnavailable } from '../src/common/oms-errors.js';
import { KeystoneServiceToken } from '../src/iam/keystone-service-token.js';
import { FAKE_SERVICE_IDENTITY, FakeKeystone } from './support/fake-keystone.js';

const IDENTITY = {
  userName: FAKE_SERVICE_IDENTITY.IAM_SERVICE_USER,
  password: FAKE_SERVICE_IDENTITY.IAM_SERVICE_PASSWORD,
  userDomain: 'Default',
  projectName: FAKE_SERVICE_IDENTITY.IAM_SERVICE_PROJECT,
  projectDomain: 'Default',
};

describe('KeystoneServiceToken', () => {
  let keystone: FakeKeystone;
  before(async () => (keystone = await FakeKeystone.start()));
  after(async () => keystone.stop());

  test('concurrent first calls share one issue; later calls reuse the token', async () => {
    const service = new KeystoneServiceToken(keystone.endpoint, IDENTITY, 2000);
    const issued = keystone.serviceTokensIssued;
    const tokens = await Promise.all([service.get(), service.get(), service.get()]);
    assert.equal(new Set(tokens).size, 1);
    assert.equal(await service.get(), tokens[0]);
    assert.equal(keystone.serviceTokensIssued - issued, 1);
  });

  test('re-issued within five minutes of its expiry (the double issues 1 h tokens)', async () => {
    let offset = 0;
    const service = new KeystoneServiceToken(
      keystone.endpoint,
      IDENTITY,
      2000,
      undefined, // the default pool of connections
      () => Date.now() + offset,
    );
    const first = await service.get();
    offset = 54 * 60_000;
    assert.equal(await service.get(), first, 'still more than five minutes left');
    offset = 56 * 60_000;
    assert.notEqual(await service.get(), first);
  });

  test('invalidate() drops the token IAM refused, not a newer one', async () => {
    const service = new KeystoneServiceToken(keystone.endpoint, IDENTITY, 2000);
    const first = await service.get();
    service.invalidate('some-older-token');
    assert.equal(await service.get(), first);
    service.invalidate(first);
    assert.notEqual(await service.get(), first);
  });

  test('a wrong password is DependencyUnavailable (503), and the password is in no message', async () => {
    const service = new KeystoneServiceToken(
      keystone.endpoint,
      { ...IDENTITY, password: 'wrong-password-123' },
      2000,
    );
    await assert.rejects(service.get(), (error: Error) => {
      assert.ok(error instanceof DependencyUnavailable);
      assert.doesNotMatch(error.message, /wrong-password-123/);
      return true;
    });
  });
});
