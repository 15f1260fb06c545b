// The one guard: turns the request's credentials into an Caller and hangs
// it on the request, or refuses. Authorization (project, roles) is the
// handler's business, through AccessPolicy, once parameters are validated.
//
// Which credential counts: an `Authorization: SDK-HMAC-SHA256 ...` header
// means an access-key signature, otherwise X-Auth-Token. A request carrying
// both is refused (401) rather than authenticated by one and not the other:
// two credentials that may name different users or projects are ambiguous.
//
// The rate limits (src/limits/rate-limits.ts) sit where each credential is
// known to be its sender's: a token's before IAM is asked (a token is a
// secret), an access key's once its signature is verified (a key is not);
// per client address while a credential is not proven yet; per project once
// the credential names it.
//
// A signed write is then recorded, so that the same signed bytes, sent again
// within the signature's window, are refused on any replica
// (signature-replays.ts). Last, so that a request throttled or refused
// before does not use up its signature; one refused later (a 4xx, nothing
// changed) has it forgotten again.

import {
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
import type { Caller } from './caller.js';
import { isSdkSignature } from './sdk-signature.js';
import { SignatureAuthenticator, type SignedRequest } from './signature-authenticator.js';
import { SignatureReplays } from './signature-replays.js';
import { TokenAuthenticator, tokenKey } from './token-authenticator.js';

export type AuthenticatedRequest = FastifyRequest & {
  caller?: Caller;
  /** A signed write's signature, once recorded against replays. */
  acceptedSignature?: string;
  /** The body bytes as received, kept by the content-type parsers for the signature check. */
  rawBody?: Buffer;
};

const PUBLIC_ROUTE = 'oms:public-route';

/** Methods that change nothing: sending one of them again is harmless. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/** Marks a route that needs no credentials (health checks). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * Whether each route handler is public: asked of its metadata once, not per
   * request. Keyed by the handler alone, which stands for its controller too:
   * no controller here inherits its handlers from another.
   */
  private readonly publicHandlers = new WeakMap<object, boolean>();

  constructor(
    private readonly tokens: TokenAuthenticator,
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimits,
    @Optional() private readonly signatures?: SignatureAuthenticator,
    @Optional() private readonly replays?: SignatureReplays,
  ) {}

  /**
   * A boolean, not a promise, for a token found in the cache: most requests
   * then wait for nothing here, and Nest awaits nothing either.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const authorization = headerValue(request, 'authorization');
    if (isSdkSignature(authorization)) return this.admitSigned(request);

    const token = headerValue(request, 'x-auth-token');
    // Hashed once here, for the rate limit and the token cache alike.
    const key = token ? tokenKey(token) : '';
    this.rateLimits.checkCredential(key);
    const cached = this.tokens.cached(token, key);
    if (cached) return this.admit(request, cached);
    return this.tokens
      .fromIam(token!, key, () => this.rateLimits.checkUnproven(request.ip))
      .then((caller) => this.admit(request, caller));
  }

  private isPublic(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let isPublic = this.publicHandlers.get(handler);
    if (isPublic === undefined) {
      isPublic =
        this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [handler, context.getClass()]) ??
        false;
      this.publicHandlers.set(handler, isPublic);
    }
    return isPublic;
  }

  private admit(request: AuthenticatedRequest, caller: Caller): true {
    request.caller = caller;
    this.rateLimits.checkProject(caller.projectId);
    return true;
  }

  private async admitSigned(request: AuthenticatedRequest): Promise<boolean> {
    if (headerValue(request, 'x-auth-token') !== undefined) {
      throw new Unauthenticated(
        'the request carries both X-Auth-Token and an SDK-HMAC-SHA256 signature; send one.',
      );
    }
    if (!this.signatures) {
      throw new Unauthenticated(
        'access-key signatures are not enabled on this service (no IAM service identity).',
      );
    }
    this.rateLimits.checkUnproven(request.ip);
    const signature = await this.signatures.verify(signedRequest(request));
    this.rateLimits.checkCredential(`access-key:${signature.accessKey}`);
    this.admit(request, signature.caller);
    if (!READ_METHODS.has(request.method.toUpperCase())) {
      await this.replays!.accept(signature.signature, signature.signedAt);
      request.acceptedSignature = signature.signature;
    }
    return true;
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
