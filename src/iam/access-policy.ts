// Who may do what, once we know who the caller is (see the contract's "Who
// may do what"). Called by each handler after its parameters are validated,
// so an out-of-bounds project_id is a 400, not a 403.

import { Forbidden } from '../common/oms-errors.js';
import type { Caller } from './caller.js';

export type Access = 'read' | 'write';

/** Huawei's marks on a restricted or frozen account. */
const BLOCKED_ROLES = ['op_restricted', 'op_suspended'];

export class AccessPolicy {
  constructor(private readonly readOnlyRoles: readonly string[]) {}

  authorize(caller: Caller, projectId: string, access: Access): void {
    if (caller.projectId !== projectId) {
      throw new Forbidden(
        caller.projectId === undefined
          ? 'the credentials are not scoped to a project.'
          : 'the credentials are scoped to another project.',
      );
    }
    if (access === 'read') return;
    if (caller.roles.some((role) => BLOCKED_ROLES.includes(role))) {
      throw new Forbidden('the account is restricted or suspended.');
    }
    const writerRoles = caller.roles.filter(
      (role) => !this.readOnlyRoles.includes(role) && !BLOCKED_ROLES.includes(role),
    );
    if (writerRoles.length === 0) {
      throw new Forbidden('the caller has no role that may make changes.');
    }
  }
}
