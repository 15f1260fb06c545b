// The one guard: turns the request's credentials into an Identity and hangs
// it on the request, or refuses. Authorization (project, roles) is the
// handler's business, through AccessPolicy, once parameters are validated.
//
// Which credential counts: an `Authorization: SDK-HMAC-SHA256 ...` header
// means an access-key signature, otherwise X-Auth-Token. A request carrying
// both is refused (401) rather than authenticated by one and not the other:
// two credentials that may name different users or projects are ambiguous.
//
// The rate limits sit on either side of authentication: per credential (the
// token, or the access key) before it, so a flood costs IAM nothing; per
// project after it, so only the project's own callers count against it.

import {
  createParamDecorator,
  Injectable,
  Optional,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Unauthenticated } from '../common/oms-errors.js';
import { RateLimits } from '../limits/rate-limits.js';
import type { Identity } from './identity.js';
import { isSdkSignature, parseAuthorization } from './sdk-signature.js';
import { SignatureAuthenticator, type SignedRequest } from './signature-authenticator.js';
import { TokenAuthenticator, tokenKey } from './token-authenticator.js';

export type AuthenticatedRequest = FastifyRequest & {
  identity?: Identity;
  /** The body bytes as received, kept by the content-type parsers for the signature check. */
  rawBody?: Buffer;
};

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
    private readonly tokens: TokenAuthenticator,
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimits,
    @Optional() private readonly signatures?: SignatureAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.identity = await this.authenticate(request);
    this.rateLimits.checkProject(request.identity.projectId);
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Identity> {
    const token = headerValue(request, 'x-auth-token');
    const authorization = headerValue(request, 'authorization');
    if (!isSdkSignature(authorization)) {
      // Hashed once here, for the rate limit and the token cache alike.
      const key = token ? tokenKey(token) : undefined;
      this.rateLimits.checkCredential(key);
      return this.tokens.authenticate(token, key);
    }
    if (token !== undefined) {
      throw new Unauthenticated(
        'the request carries both X-Auth-Token and an SDK-HMAC-SHA256 signature; send one.',
      );
    }
    if (!this.signatures) {
      throw new Unauthenticated(
        'access-key signatures are not enabled on this service (no IAM service identity).',
      );
    }
    const accessKey = parseAuthorization(authorization!)?.accessKey;
    if (accessKey) this.rateLimits.checkCredential(`access-key:${accessKey}`);
    return this.signatures.authenticate(signedRequest(request));
  }
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function signedRequest(request: AuthenticatedRequest): SignedRequest {
  return {
    method: request.method,
    url: request.raw.url ?? request.url,
    header: (name) => headerValue(request, name),
    body: request.rawBody,
  };
}
