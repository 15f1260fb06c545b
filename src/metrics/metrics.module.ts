import { Global, Module, type DynamicModule } from '@nestjs/common';
import { IAM_OBSERVER } from '../iam/iam-observer.js';
import { TRANSITION_OBSERVER } from '../tasks/transition-observer.js';
import { SYNC_TRANSITION_OBSERVER } from '../sync-tasks/sync-transition-observer.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/** Hands the app's Metrics to the features that report to it. */
@Global()
@Module({})
export class MetricsModule {
  static register(metrics: Metrics): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: Metrics, useValue: metrics },
        { provide: IAM_OBSERVER, useValue: metrics },
        { provide: TRANSITION_OBSERVER, useValue: metrics },
        { provide: SYNC_TRANSITION_OBSERVER, useValue: metrics },
      ],
      exports: [Metrics, IAM_OBSERVER, TRANSITION_OBSERVER, SYNC_TRANSITION_OBSERVER],
    };
  }
}
