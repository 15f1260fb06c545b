// Domain errors. Each carries the stable OMS (or API gateway) error code that
// the contract assigns to it; code that throws them knows nothing of HTTP.
// OmsExceptionFilter is the one place that turns a code into an HTTP status.

export type OmsErrorCode =
  | 'OMS.0063' // delete: task is migrating
  | 'OMS.0064' // a parameter breaks its bounds
  | 'OMS.0065' // start: task already waiting or migrating
  | 'OMS.0066' // stop: task is not migrating
  | 'OMS.0067' // body is not JSON
  | 'OMS.0070' // start: task has succeeded
  | 'OMS.0077' // create: task quota used up
  | 'OMS.0206' // authenticated but not allowed
  | 'OMS.1009' // no such task
  | 'OMS.2000' // unexpected fault
  | 'OMS.2004' // a dependency is unavailable
  | 'APIGW.0101' // no such API
  | 'APIGW.0301' // bad credentials
  | 'APIGW.0308'; // throttled

export class OmsError extends Error {
  constructor(
    readonly code: OmsErrorCode,
    message: string,
  ) {
    // These are answers to the caller, not faults: nobody reads their stack,
    // and capturing one was the largest single cost of a 403 under load. Not
    // a number rather than 0: measured alone on Node 20, an error made at 0
    // still cost about twice as much, more the deeper the stack (V8 still
    // walks it); not a number, nothing is captured and the error has no stack.
    const errorClass = Error as { stackTraceLimit: unknown };
    const stackTraceLimit = errorClass.stackTraceLimit;
    errorClass.stackTraceLimit = undefined;
    try {
      super(message);
    } finally {
      errorClass.stackTraceLimit = stackTraceLimit;
    }
    this.name = new.target.name;
  }
}

export class InvalidParameter extends OmsError {
  constructor(message: string) {
    super('OMS.0064', message);
  }
}

export class MalformedBody extends OmsError {
  constructor() {
    super('OMS.0067', 'The request body is not valid JSON.');
  }
}

export class TaskNotFound extends OmsError {
  constructor() {
    super('OMS.1009', 'No resources found.');
  }
}

export class Unauthenticated extends OmsError {
  constructor(reason: string) {
    super('APIGW.0301', `Incorrect IAM authentication information: ${reason}`);
  }
}

export class Forbidden extends OmsError {
  constructor(reason: string) {
    super('OMS.0206', `Permission denied: ${reason}`);
  }
}

/**
 * A worker reports on a task it holds no lease on: the lease ended, or it
 * expired and another worker took the task over (worker/).
 */
export class LeaseNotHeld extends Forbidden {
  constructor() {
    super('this worker holds no lease on the task; it ended, or expired and was taken over.');
  }
}

export class DependencyUnavailable extends OmsError {
  constructor(readonly dependency: 'database' | 'IAM') {
    super('OMS.2004', `The ${dependency} is unavailable; nothing was changed. Retry later.`);
  }
}

export class RouteNotFound extends OmsError {
  constructor() {
    super('APIGW.0101', 'The API does not exist or has not been published.');
  }
}

export class TaskQuotaExceeded extends OmsError {
  constructor(reason: string) {
    super('OMS.0077', `The task quota is used up: ${reason}.`);
  }
}

export class TaskFinished extends OmsError {
  constructor(what: string) {
    super('OMS.0070', `The task has succeeded; ${what}.`);
  }
}

export class Throttled extends OmsError {
  constructor(
    readonly limit: 'project' | 'credential' | 'client address',
    /** Whole seconds until the caller may try again; sent as Retry-After. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      'APIGW.0308',
      `The throttling threshold has been reached: too many requests for this ${limit}. ` +
        `Retry after ${retryAfterSeconds} s.`,
    );
  }
}

/**
 * No such task group (or sync task): OMS.1009 as for tasks, but answered 404
 * (Terraform treats only a 404 as "gone" for these resources). The exception
 * filter knows this class by name (NOT_FOUND_STATUS), so missing tasks keep
 * their 400 OMS.1009.
 */
export class ResourceGone extends OmsError {
  constructor(what: string) {
    super('OMS.1009', `No resources found: no such ${what}.`);
  }
}

export class SyncTaskNotFound extends ResourceGone {
  constructor() {
    super('sync task');
  }
}
