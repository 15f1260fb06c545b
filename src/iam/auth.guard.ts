// The one guard: turns the request's credentials into an Identity and hangs
// it on the request, or refuses. The rate limits sit on either side of
// validation: per credential before it (a flood costs IAM nothing), per
// project after it (only the project's own callers count against it).
// Authorization (project, roles) is the handler's business, through
// AccessPolicy, once parameters are validated.

import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { RateLimits } from '../limits/rate-limits.js';
import type { Identity } from './identity.js';
import { TokenAuthenticator } from './token-authenticator.js';

export type AuthenticatedRequest = FastifyRequest & { identity?: Identity };

const PUBLIC_ROUTE = 'oms:public-route';

/** Marks a route that needs no credentials (health checks). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

/** The caller's Identity, as the guard established it. */
export const Caller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Identity | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().identity,
);

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: TokenAuthenticator,
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['x-auth-token'];
    const token = Array.isArray(header) ? header.join(',') : header;
    this.rateLimits.checkCredential(token);
    request.identity = await this.authenticator.authenticate(token);
    this.rateLimits.checkProject(request.identity.projectId);
    return true;
  }
}
