// Access keys, secret keys and security tokens of a task, sealed with
// AES-256-GCM before they reach the database and opened only inside the
// service. The task's id and project are the additional authenticated data,
// so a sealed blob copied onto another row does not open.
//
// Layout: version (1 byte) | key id (4 bytes) | IV (12) | tag (16) | ciphertext.
// The key id (the first bytes of SHA-256 of the key) says which key sealed
// a blob, so a wrong key fails with a clear message rather than garbage.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every secret a create or start body may carry; all optional. */
export interface TaskSecrets {
  src_ak?: string;
  src_sk?: string;
  src_security_token?: string;
  dst_ak?: string;
  dst_sk?: string;
  dst_security_token?: string;
  source_cdn_authentication_key?: string;
}

const SECRET_FIELDS = [
  'src_ak',
  'src_sk',
  'src_security_token',
  'dst_ak',
  'dst_sk',
  'dst_security_token',
  'source_cdn_authentication_key',
] as const satisfies readonly (keyof TaskSecrets)[];

/** The secrets a body (a start's, a retry's) names; those it leaves out are not in the result. */
export function pickTaskSecrets(body: TaskSecrets): TaskSecrets {
  const picked: TaskSecrets = {};
  for (const field of SECRET_FIELDS) {
    if (body[field] !== undefined) picked[field] = body[field];
  }
  return picked;
}

const VERSION = 1;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

export class SecretsKeyMismatch extends Error {}

export class TaskSecretsCipher {
  private readonly keyId: Buffer;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('AES-256 needs a 32-byte key');
    this.keyId = createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
  }

  seal(secrets: TaskSecrets, projectId: string, taskId: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(projectId, taskId));
    const ciphertext = Buffer.concat([
      cipher.update(JSON.stringify(secrets), 'utf8'),
      cipher.final(),
    ]);
    return Buffer.concat([Buffer.of(VERSION), this.keyId, iv, cipher.getAuthTag(), ciphertext]);
  }

  open(blob: Buffer, projectId: string, taskId: string): TaskSecrets {
    if (blob.length < HEADER_BYTES || blob[0] !== VERSION) {
      throw new SecretsKeyMismatch('task secrets: unknown format');
    }
    if (!blob.subarray(1, 1 + KEY_ID_BYTES).equals(this.keyId)) {
      throw new SecretsKeyMismatch('task secrets were sealed with another SECRETS_KEY');
    }
    let offset = 1 + KEY_ID_BYTES;
    const iv = blob.subarray(offset, (offset += IV_BYTES));
    const tag = blob.subarray(offset, (offset += TAG_BYTES));
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(aad(projectId, taskId));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(blob.subarray(offset)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as TaskSecrets;
  }
}

function aad(projectId: string, taskId: string): Buffer {
  // Length-prefixed, so ("a", "bc") and ("ab", "c") differ.
  return Buffer.from(`${projectId.length}:${projectId}/${taskId}`, 'utf8');
}

/**
 * The development default: a key generated once into the data directory
 * (mode 0600) and reused, so `npm start` needs no configuration and tasks
 * created in one run can still be started in the next.
 */
export function developmentSecretsKey(dataDir: string): Buffer {
  const path = join(dataDir, 'secrets.key');
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}
