import { Global, Module } from '@nestjs/common';
import { EventRelay } from './event-relay.js';

/** The events relay; global so that readiness can say how it is. Off without EVENTS_NATS_URL. */
@Global()
@Module({ providers: [EventRelay], exports: [EventRelay] })
export class EventsModule {}
