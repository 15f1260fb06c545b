import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { AccessPolicy } from './access-policy.js';
import { AuthGuard } from './auth.guard.js';
import { TOKEN_VALIDATOR, type TokenValidator } from './identity.js';
import { TokenAuthenticator } from './token-authenticator.js';

@Module({})
export class IamModule {
  static register(validator: TokenValidator): DynamicModule {
    return {
      module: IamModule,
      global: true,
      providers: [
        { provide: TOKEN_VALIDATOR, useValue: validator },
        {
          provide: TokenAuthenticator,
          inject: [TOKEN_VALIDATOR, APP_CONFIG],
          useFactory: (tokens: TokenValidator, config: AppConfig) =>
            new TokenAuthenticator(tokens, {
              ttlSeconds: config.tokenCacheTtlSeconds,
              maxEntries: config.tokenCacheMaxEntries,
            }),
        },
        {
          provide: AccessPolicy,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new AccessPolicy(config.readOnlyRoles),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AccessPolicy, TokenAuthenticator],
    };
  }
}
