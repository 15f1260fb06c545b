import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { AccessKeyStore } from './access-key.js';
import { AccessPolicy } from './access-policy.js';
import { AuthGuard } from './auth.guard.js';
import { CircuitBreakingAccessKeyStore, CircuitBreakingValidator } from './circuit-breaker.js';
import { IAM_OBSERVER, type IamObserver } from './iam-observer.js';
import { TOKEN_VALIDATOR, type TokenValidator } from './caller.js';
import { SignatureAuthenticator } from './signature-authenticator.js';
import { ForgetRefusedSignatures, SignatureReplays } from './signature-replays.js';
import { TokenAuthenticator } from './token-authenticator.js';
import { UnknownAccessKeys } from './unknown-access-keys.js';

const optionalObserver = { token: IAM_OBSERVER, optional: true };

@Module({})
export class IamModule {
  /** Without an access-key store, signed requests are refused (401). */
  static register(validator: TokenValidator, accessKeys?: AccessKeyStore): DynamicModule {
    // Cache → unknown keys → breaker → IAM, as for tokens: keys looked up
    // before an outage keep working while the access-key circuit is open.
    const signatures: Provider[] = accessKeys
      ? [
          {
            provide: CircuitBreakingAccessKeyStore,
            inject: [APP_CONFIG, CLOCK, optionalObserver],
            useFactory: (config: AppConfig, clock: Clock, observer?: IamObserver) =>
              new CircuitBreakingAccessKeyStore(
                accessKeys,
                {
                  failureThreshold: config.iamCircuitFailureThreshold,
                  probeIntervalMs: config.iamCircuitProbeIntervalMs,
                  onStateChange: (state) => observer?.iamCircuitState('access_key', state),
                },
                () => clock.now(),
              ),
          },
          {
            provide: SignatureAuthenticator,
            inject: [CircuitBreakingAccessKeyStore, APP_CONFIG, CLOCK],
            useFactory: (store: AccessKeyStore, config: AppConfig, clock: Clock) =>
              new SignatureAuthenticator(
                new UnknownAccessKeys(
                  store,
                  {
                    ttlSeconds: config.unknownAccessKeyTtlSeconds,
                    maxEntries: config.accessKeyCacheMaxEntries,
                  },
                  () => clock.now(),
                ),
                {
                  ttlSeconds: config.accessKeyCacheTtlSeconds,
                  maxEntries: config.accessKeyCacheMaxEntries,
                  hosts: config.signatureHosts,
                },
                () => clock.now(),
              ),
          },
          {
            provide: SignatureReplays,
            inject: [DataSource, CLOCK],
            useFactory: (db: DataSource, clock: Clock) =>
              new SignatureReplays(db, () => clock.now()),
          },
          { provide: APP_INTERCEPTOR, useClass: ForgetRefusedSignatures },
        ]
      : [];
    return {
      module: IamModule,
      global: true,
      providers: [
        { provide: TOKEN_VALIDATOR, useValue: validator },
        {
          // Cache → breaker → IAM: the cache answers first, so cached tokens
          // keep working while the circuit is open.
          provide: CircuitBreakingValidator,
          inject: [TOKEN_VALIDATOR, APP_CONFIG, CLOCK, optionalObserver],
          useFactory: (
            tokens: TokenValidator,
            config: AppConfig,
            clock: Clock,
            observer?: IamObserver,
          ) =>
            new CircuitBreakingValidator(
              tokens,
              {
                failureThreshold: config.iamCircuitFailureThreshold,
                probeIntervalMs: config.iamCircuitProbeIntervalMs,
                onStateChange: (state) => observer?.iamCircuitState('token', state),
              },
              () => clock.now(),
            ),
        },
        {
          provide: TokenAuthenticator,
          inject: [CircuitBreakingValidator, APP_CONFIG, CLOCK, optionalObserver],
          useFactory: (
            tokens: TokenValidator,
            config: AppConfig,
            clock: Clock,
            observer?: IamObserver,
          ) =>
            new TokenAuthenticator(
              tokens,
              {
                ttlSeconds: config.tokenCacheTtlSeconds,
                maxEntries: config.tokenCacheMaxEntries,
                observer,
                maxIamTokenLength: config.iamMaxTokenLength,
              },
              () => clock.now(),
            ),
        },
        {
          provide: AccessPolicy,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new AccessPolicy(config.readOnlyRoles),
        },
        ...signatures,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [
        AccessPolicy,
        TokenAuthenticator,
        CircuitBreakingValidator,
        TOKEN_VALIDATOR,
        ...(accessKeys ? [CircuitBreakingAccessKeyStore] : []),
      ],
    };
  }
}
