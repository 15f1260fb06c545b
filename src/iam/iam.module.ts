import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { AccessPolicy } from './access-policy.js';
import { AuthGuard } from './auth.guard.js';
import { CircuitBreakingValidator } from './circuit-breaker.js';
import { IAM_OBSERVER, type IamObserver } from './iam-observer.js';
import { TOKEN_VALIDATOR, type TokenValidator } from './identity.js';
import { TokenAuthenticator } from './token-authenticator.js';

const optionalObserver = { token: IAM_OBSERVER, optional: true };

@Module({})
export class IamModule {
  static register(validator: TokenValidator): DynamicModule {
    return {
      module: IamModule,
      global: true,
      providers: [
        { provide: TOKEN_VALIDATOR, useValue: validator },
        {
          // Cache → breaker → IAM: the cache answers first, so cached tokens
          // keep working while the circuit is open.
          provide: CircuitBreakingValidator,
          inject: [TOKEN_VALIDATOR, APP_CONFIG, optionalObserver],
          useFactory: (tokens: TokenValidator, config: AppConfig, observer?: IamObserver) =>
            new CircuitBreakingValidator(tokens, {
              failureThreshold: config.iamCircuitFailureThreshold,
              probeIntervalMs: config.iamCircuitProbeIntervalMs,
              onStateChange: (state) => observer?.iamCircuitState(state),
            }),
        },
        {
          provide: TokenAuthenticator,
          inject: [CircuitBreakingValidator, APP_CONFIG, optionalObserver],
          useFactory: (tokens: TokenValidator, config: AppConfig, observer?: IamObserver) =>
            new TokenAuthenticator(tokens, {
              ttlSeconds: config.tokenCacheTtlSeconds,
              maxEntries: config.tokenCacheMaxEntries,
              observer,
            }),
        },
        {
          provide: AccessPolicy,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new AccessPolicy(config.readOnlyRoles),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AccessPolicy, TokenAuthenticator, CircuitBreakingValidator, TOKEN_VALIDATOR],
    };
  }
}
