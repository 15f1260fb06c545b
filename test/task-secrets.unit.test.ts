// Sealing task secrets: AES-256-GCM with the task as additional data, a
// fresh IV each time, a key id that names a wrong key, and the development
// key that is generated once and kept.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  developmentSecretsKey,
  SecretsKeyMismatch,
  TaskSecretsCipher,
} from '../src/tasks/task-secrets.js';

const KEY = Buffer.alloc(32, 1);
const secrets = {
  src_ak: 'AK-SOURCE',
  src_sk: 'sk-source-very-secret',
  dst_ak: 'AK-DST',
  dst_sk: 'sk-dst',
};

describe('TaskSecretsCipher', () => {
  const cipher = new TaskSecretsCipher(KEY);

  test('seals and opens again for the same task', () => {
    const blob = cipher.seal(secrets, 'project-1', '42');
    assert.deepEqual(cipher.open(blob, 'project-1', '42'), secrets);
  });

  test('the sealed blob holds no secret in clear, and differs every time', () => {
    const a = cipher.seal(secrets, 'project-1', '42');
    const b = cipher.seal(secrets, 'project-1', '42');
    assert.notDeepEqual(a, b, 'a fresh IV each time');
    for (const value of Object.values(secrets)) {
      assert.ok(!a.toString('latin1').includes(value), value);
    }
  });

  test('does not open for another task or project (the task is authenticated data)', () => {
    const blob = cipher.seal(secrets, 'project-1', '42');
    assert.throws(() => cipher.open(blob, 'project-1', '43'));
    assert.throws(() => cipher.open(blob, 'project-2', '42'));
    // The length prefix keeps ("p", "12") and ("p1", "2") apart.
    const tricky = cipher.seal(secrets, 'p', '12');
    assert.throws(() => cipher.open(tricky, 'p1', '2'));
  });

  test('a flipped bit anywhere is detected', () => {
    const blob = cipher.seal(secrets, 'project-1', '42');
    for (const index of [5, 20, 40, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[index] ^= 1;
      assert.throws(() => cipher.open(bad, 'project-1', '42'), `bit in byte ${index}`);
    }
  });

  test('another key is named as such, not answered with garbage', () => {
    const blob = new TaskSecretsCipher(Buffer.alloc(32, 2)).seal(secrets, 'p', '1');
    assert.throws(() => cipher.open(blob, 'p', '1'), SecretsKeyMismatch);
    assert.throws(() => cipher.open(Buffer.from('short'), 'p', '1'), SecretsKeyMismatch);
  });

  test('refuses a key that is not 32 bytes', () => {
    assert.throws(() => new TaskSecretsCipher(Buffer.alloc(16)));
  });
});

describe('the development key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is generated once into the data directory, mode 0600, and reused', () => {
    const dataDir = join(dir, 'data');
    const first = developmentSecretsKey(dataDir);
    assert.equal(first.length, 32);
    const file = join(dataDir, 'secrets.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first.toString('base64'));
    assert.deepEqual(developmentSecretsKey(dataDir), first);
  });
});
