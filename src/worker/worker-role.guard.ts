// Only the data plane's workers speak the worker protocol. Checked as a
// guard, after the one AuthGuard has established the caller and before the
// body is read or validated: a tenant's request costs no parsing, and a
// lease (which hands out a task's keys) is never even considered for it.

import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Forbidden } from '../common/oms-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { AuthenticatedRequest } from '../iam/auth.guard.js';

@Injectable()
export class WorkerRoleGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const { caller } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!caller?.roles.includes(this.config.workerRole)) {
      throw new Forbidden(
        `only the data plane's workers (IAM role ${this.config.workerRole}) may call this.`,
      );
    }
    return true;
  }
}
