/**
 * One error type per meaning. Services and domain rules throw these; src/http/errors.ts maps them, in one place, to
 * the JSON error shape of API.md ({ error, message, details }) or to a friendly page. `messageKey` is an i18n key of
 * the `errors` namespace, translated in the user's language at the edge.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  constructor(
    readonly code: string,
    readonly messageKey: string,
    readonly params: Record<string, unknown> = {},
    readonly details?: unknown,
  ) {
    super(`${code}: ${messageKey}`);
    this.name = new.target.name;
  }
}

/** 400: the input is malformed; `details.fields` names each wrong field. */
export class ValidationError extends AppError {
  readonly status = 400;
  constructor(fields: Array<{ field: string; message: string }>, messageKey = 'validation') {
    super('invalid_input', messageKey, { fields: fields.map((f) => f.field).join(', ') }, { fields });
  }
}

export class UnauthenticatedError extends AppError {
  readonly status = 401;
  constructor() {
    super('unauthenticated', 'unauthenticated');
  }
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  constructor(messageKey = 'forbidden', params: Record<string, unknown> = {}, code = 'forbidden') {
    super(code, messageKey, params);
  }
}

/** 404, also for another school's data: never reveal that it exists. */
export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(messageKey = 'notFound', params: Record<string, unknown> = {}) {
    super('not_found', messageKey, params);
  }
}

export class ConflictError extends AppError {
  readonly status = 409;
  constructor(code: string, messageKey: string, params: Record<string, unknown> = {}, details?: unknown) {
    super(code, messageKey, params, details);
  }
}

/** 422: a state change the rules refuse (workflow, incident equipment booked...). */
export class RefusedError extends AppError {
  readonly status = 422;
  constructor(code: string, messageKey: string, params: Record<string, unknown> = {}, details?: unknown) {
    super(code, messageKey, params, details);
  }
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  constructor(params: Record<string, unknown> = {}, messageKey = 'payloadTooLarge', details?: unknown) {
    super('payload_too_large', messageKey, params, details);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  constructor(params: Record<string, unknown> = {}, messageKey = 'unsupportedMediaType', details?: unknown) {
    super('unsupported_media_type', messageKey, params, details);
  }
}

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  constructor() {
    super('too_many_requests', 'tooManyRequests');
  }
}

/**
 * 503: the work asked for is already running for others as much as this process allows (a live computation across
 * a department's schools); `retryAfterSeconds` goes out as Retry-After.
 */
export class BusyError extends AppError {
  readonly status = 503;
  constructor(
    messageKey: string,
    readonly retryAfterSeconds = 30,
  ) {
    super('busy', messageKey);
  }
}
