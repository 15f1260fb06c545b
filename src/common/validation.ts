// Bodies and query strings are checked against their classes (class-validator
// decorators) by one ValidationPipe, named on each parameter that has a class
// (ValidBody, ValidQuery) rather than installed for the whole application. A
// global pipe also runs on every path parameter of every request, and Nest
// then awaits each parameter: about 5 µs of CPU per refused stop under load,
// in an ablation run of `npm run bench`. A failure is 400 OMS.0064 with the
// first message class-validator gives.
//
// A body reaches the pipe parsed and bounded in shape (common/json-body.ts),
// after the guard. Within those bounds an array may still be far longer than
// its field allows; validation stops at a field's first error, so that 1,300
// bandwidth periods cost the one ArrayMaxSize check rather than a validation
// of each (~45 ms), and the first message is the same either way.

import { Body, Query, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { InvalidParameter } from './oms-errors.js';

function firstMessage(errors: ValidationError[]): string {
  for (const error of errors) {
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) return `${messages[0]}.`;
    const nested = error.children && firstMessage(error.children);
    if (nested) return nested;
  }
  return 'A parameter is invalid.';
}

const validation = new ValidationPipe({
  whitelist: true,
  transform: true,
  stopAtFirstError: true,
  exceptionFactory: (errors) => new InvalidParameter(firstMessage(errors)),
});

/** The request body, checked against the parameter's class. */
export const ValidBody = () => Body(validation);

/** The query string, checked against the parameter's class. */
export const ValidQuery = () => Query(validation);
