// A signed write acts once. A signature is accepted for MAX_CLOCK_SKEW_MS
// either side of its X-Sdk-Date, and anyone who saw the request on the way
// could send the same bytes again in that time; so every accepted signature
// of a write is recorded in PostgreSQL, which all replicas share, and a
// signature already there is refused as a replay (401 APIGW.0301).
//
// Only verified signatures are recorded: 64 hex digits that only the holder
// of the secret key could make, so unauthenticated callers cannot fill the
// table. Rows outlive their signature's window by a margin for replicas whose
// clocks differ, and are then deleted, a bounded batch now and then.
//
// A write refused with a 4xx changed nothing (the service's rule for every
// refusal), so its signature is forgotten again: "refused, state fixed,
// the same call again" works within the same second, and the bytes still
// act at most once. A 5xx keeps it: a 503 may follow a commit whose answer
// was lost.
//
// The cost of the rule: the very same signed bytes sent again after they
// were acted on (a client's retry that does not sign again, within the same
// second, or after a 503) are refused. The official SDKs sign each attempt
// anew, with its own X-Sdk-Date: only the same write twice within one second
// meets the refusal.

import {
  HttpException,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { OmsError, Unauthenticated } from '../common/oms-errors.js';
import { HTTP_STATUS } from '../common/oms-exception.filter.js';
import { namedQuery } from '../database/named-query.js';
import type { Statement } from '../database/statement.js';
import { MAX_CLOCK_SKEW_MS } from './sdk-signature.js';

/** Kept this long after X-Sdk-Date: the window after it, and replicas' clocks a few minutes apart. */
const KEPT_MS = MAX_CLOCK_SKEW_MS + 5 * 60 * 1000;
/** Rows deleted by one sweep at most, so that a sweep is one short statement. */
const SWEEP_BATCH = 1000;
/** A sweep after this many accepted signatures, or this long, whichever comes first. */
const SWEEP_EVERY_ACCEPTS = 100;
const SWEEP_EVERY_MS = 60_000;

// The feature's statements. Every signed write runs ACCEPT, so the three are
// named (prepared once per connection).

const ACCEPT: Statement<{ signature: string; signedAt: Date }, { signature: string }> = {
  name: 'accept-signature',
  text: `
  INSERT INTO accepted_signatures (signature, signed_at) VALUES ($1, $2)
  ON CONFLICT (signature) DO NOTHING
  RETURNING signature`,
  values: (p) => [p.signature, p.signedAt],
};

const FORGET: Statement<{ signature: string }, never> = {
  name: 'forget-signature',
  text: 'DELETE FROM accepted_signatures WHERE signature = $1',
  values: (p) => [p.signature],
};

const SWEEP: Statement<{ signedBefore: Date; batch: number }, never> = {
  name: 'sweep-accepted-signatures',
  text: `
  DELETE FROM accepted_signatures WHERE signature IN (
    SELECT signature FROM accepted_signatures WHERE signed_at < $1 LIMIT $2)`,
  values: (p) => [p.signedBefore, p.batch],
};

export class SignatureReplays {
  private readonly logger = new Logger('SignatureReplays');
  private acceptsSinceSweep = 0;
  private lastSweepAt: number;
  private sweeping = false;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweepAt = now();
  }

  /**
   * Records a verified write's signature, or refuses it as a replay. A
   * database that cannot be reached fails the request (503, nothing done).
   */
  async accept(signature: string, signedAt: number): Promise<void> {
    const rows = await namedQuery(this.db, ACCEPT, { signature, signedAt: new Date(signedAt) });
    if (rows.length === 0) {
      throw new Unauthenticated(
        'this signed request was already accepted once: a replay is not acted on. ' +
          'Sign each request anew (a new X-Sdk-Date) to send it again.',
      );
    }
    this.sweepNowAndThen();
  }

  /** For a write refused with a 4xx, which changed nothing. */
  async forget(signature: string): Promise<void> {
    await namedQuery(this.db, FORGET, { signature });
  }

  /** In the background: the request that triggers it does not wait. */
  private sweepNowAndThen(): void {
    const now = this.now();
    this.acceptsSinceSweep++;
    if (this.sweeping) return;
    if (this.acceptsSinceSweep < SWEEP_EVERY_ACCEPTS && now - this.lastSweepAt < SWEEP_EVERY_MS) {
      return;
    }
    this.sweeping = true;
    this.acceptsSinceSweep = 0;
    this.lastSweepAt = now;
    namedQuery(this.db, SWEEP, { signedBefore: new Date(now - KEPT_MS), batch: SWEEP_BATCH })
      .catch((error: unknown) =>
        // The next sweep takes these rows as well; nothing is lost but time.
        this.logger.warn({ msg: 'could not delete expired signatures', error: String(error) }),
      )
      .finally(() => (this.sweeping = false));
  }
}

/** Where the guard leaves the signature it recorded for this request. */
export interface RecordedSignatureHolder {
  acceptedSignature?: string;
}

/** Whether an error is answered with a 4xx: a refusal that changed nothing. */
function isRefusal(error: unknown): boolean {
  if (error instanceof OmsError) return HTTP_STATUS[error.code] < 500;
  return error instanceof HttpException && error.getStatus() < 500;
}

/** Forgets the recorded signature of a write that was refused (see the top of the file). */
@Injectable()
export class ForgetRefusedSignatures implements NestInterceptor {
  private readonly logger = new Logger('SignatureReplays');

  constructor(private readonly replays: SignatureReplays) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<RecordedSignatureHolder>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const signature = request.acceptedSignature;
        if (signature === undefined || !isRefusal(error)) return throwError(() => error);
        return from(
          this.replays.forget(signature).catch((forgetError: unknown) =>
            // Kept, the signature only refuses the same bytes again: safe.
            this.logger.warn({ msg: 'could not forget a signature', error: String(forgetError) }),
          ),
        ).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }
}
