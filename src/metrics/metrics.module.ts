import { Global, Module, type DynamicModule } from '@nestjs/common';
import { IAM_OBSERVER } from '../iam/iam-observer.js';
import { TRANSITION_OBSERVER, TransitionObservers } from '../tasks/transition-observer.js';
import { SYNC_TRANSITION_OBSERVER } from '../sync-tasks/sync-transition-observer.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/** Hands the app's Metrics to the features that report to it. */
@Global()
@Module({})
export class MetricsModule {
  static register(metrics: Metrics): DynamicModule {
    // The metrics first; the events relay adds itself (src/events).
    const observers = new TransitionObservers();
    observers.add(metrics);
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: Metrics, useValue: metrics },
        { provide: IAM_OBSERVER, useValue: metrics },
        { provide: TransitionObservers, useValue: observers },
        { provide: TRANSITION_OBSERVER, useValue: observers },
        { provide: SYNC_TRANSITION_OBSERVER, useValue: metrics },
      ],
      exports: [
        Metrics,
        IAM_OBSERVER,
        TransitionObservers,
        TRANSITION_OBSERVER,
        SYNC_TRANSITION_OBSERVER,
      ],
    };
  }
}
