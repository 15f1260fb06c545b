// Every response carries X-Request-Id. A caller's own id is echoed when it
// is a sane token (it ends up in logs and audit rows), otherwise we make one.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestIdFor(request: IncomingMessage): string {
  const supplied = request.headers['x-request-id'];
  return typeof supplied === 'string' && SANE_REQUEST_ID.test(supplied)
    ? supplied
    : generateRequestId();
}

export function generateRequestId(): string {
  return randomUUID();
}
