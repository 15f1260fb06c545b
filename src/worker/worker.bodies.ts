// Request bodies of the data plane's protocol (docs/worker-protocol.md),
// validated field by field by ValidBody (a failure is 400 OMS.0064 naming
// the field). Counters are whole numbers up to 2^53 - 1, the largest a JSON
// number carries exactly.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export const MAX_LEASES_PER_CALL = 100;

export class LeaseRequestBody {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LEASES_PER_CALL, default: 1 })
  @IsOptional()
  @IsInt({ message: 'max_tasks must be an integer' })
  @Min(1, { message: `max_tasks must be 1 to ${MAX_LEASES_PER_CALL}` })
  @Max(MAX_LEASES_PER_CALL, { message: `max_tasks must be 1 to ${MAX_LEASES_PER_CALL}` })
  max_tasks?: number;
}

const counter = (name: string, description: string) => [
  ApiPropertyOptional({ description, minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  IsOptional(),
  IsInt({ message: `${name} must be an integer` }),
  Min(0, { message: `${name} must be 0 or more` }),
  Max(Number.MAX_SAFE_INTEGER, { message: `${name} must be at most 2^53 - 1` }),
];

function Counter(name: string, description: string): PropertyDecorator {
  return (target, key) => {
    for (const decorator of counter(name, description)) decorator(target, key);
  };
}

/** What a worker reports of a task's data; every field optional, each only moves forward. */
export class ProgressBody {
  @Counter('total_size', 'Bytes to migrate, as listed so far.') total_size?: number;
  @Counter('complete_size', 'Bytes migrated (at most total_size).') complete_size?: number;
  @Counter('total_num', 'Objects to migrate, as listed so far.') total_num?: number;
  @Counter('successful_num', 'Objects migrated.') successful_num?: number;
  @Counter('failed_num', 'Objects that failed.') failed_num?: number;
  @Counter('skipped_num', 'Objects skipped.') skipped_num?: number;
  @Counter('migrate_speed', 'Bytes per second now.') migrate_speed?: number;
  @Counter('left_time', 'Seconds left, as the worker estimates.') left_time?: number;

  @ApiPropertyOptional({ description: 'Whether the source has been listed to the end.' })
  @IsOptional()
  @IsBoolean({ message: 'is_query_over must be a boolean' })
  is_query_over?: boolean;
}

export class ErrorReasonBody {
  @ApiProperty({ maxLength: 64 })
  @IsString({ message: 'error_reason.error_code must be a string' })
  @Length(1, 64, { message: 'error_reason.error_code must be 1 to 64 characters' })
  error_code!: string;

  @ApiProperty({ maxLength: 1024 })
  @IsString({ message: 'error_reason.error_msg must be a string' })
  @Length(0, 1024, { message: 'error_reason.error_msg must be at most 1,024 characters' })
  error_msg!: string;
}

/** What each outcome is, as a TASK_ACTIONS move (task-state.ts). */
export const OUTCOME_ACTIONS = {
  paused: 'confirm_pause',
  succeeded: 'succeed',
  failed: 'fail',
  retrying: 'retry_objects',
  resumed: 'resume',
} as const;

export type Outcome = keyof typeof OUTCOME_ACTIONS;

export class OutcomeBody extends ProgressBody {
  @ApiProperty({ enum: Object.keys(OUTCOME_ACTIONS) })
  @IsIn(Object.keys(OUTCOME_ACTIONS), {
    message: `outcome must be one of ${Object.keys(OUTCOME_ACTIONS).join(', ')}`,
  })
  outcome!: Outcome;

  @ApiPropertyOptional({ type: ErrorReasonBody, description: 'Why, with outcome failed.' })
  @IsOptional()
  @IsObject({ message: 'error_reason must be an object' })
  @ValidateNested()
  @Type(() => ErrorReasonBody)
  error_reason?: ErrorReasonBody;
}
