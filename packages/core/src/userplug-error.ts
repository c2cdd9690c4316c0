const marker = Symbol.for('userplug.error');

/** Options every userplug error accepts. */
export interface UserplugErrorOptions {
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

/**
 * Base class of every error userplug throws. Check with `UserplugError.isInstance(error)`:
 * `instanceof` breaks when two copies of the package are installed.
 */
export class UserplugError extends Error {
  // Read by isInstance through the symbol, which survives duplicated package copies.
  protected readonly [marker] = true;
  override readonly name: string = 'UserplugError';

  constructor(message: string, options: UserplugErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  static isInstance(error: unknown): error is UserplugError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

function hasName(error: unknown, name: string): boolean {
  return UserplugError.isInstance(error) && error.name === name;
}

/** A history item (or a file of them) failed validation. Nothing is stored from the failing batch. */
export class InvalidHistoryError extends UserplugError {
  override readonly name = 'UserplugInvalidHistoryError';
  /** Zero-based position of the bad item in the history, when known. */
  readonly itemIndex: number | undefined;
  /** The bad item's id, when it had a readable one. */
  readonly itemId: string | undefined;
  /** The field that failed, such as `text` or `rating`. */
  readonly field: string | undefined;

  constructor(
    message: string,
    details: { itemIndex?: number; itemId?: string; field?: string } = {},
    options: UserplugErrorOptions = {},
  ) {
    super(message, options);
    this.itemIndex = details.itemIndex;
    this.itemId = details.itemId;
    this.field = details.field;
  }

  static override isInstance(error: unknown): error is InvalidHistoryError {
    return hasName(error, 'UserplugInvalidHistoryError');
  }
}

/** An option or argument has a value userplug cannot use. */
export class InvalidArgumentError extends UserplugError {
  override readonly name = 'UserplugInvalidArgumentError';
  /** The option or argument, such as `budget`. */
  readonly argument: string;

  constructor(argument: string, message: string, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.argument = argument;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return hasName(error, 'UserplugInvalidArgumentError');
  }
}

/** The encoder failed to load or to embed. */
export class EncoderError extends UserplugError {
  override readonly name = 'UserplugEncoderError';
  /** The encoder's id, such as `use-lite-512`. */
  readonly encoderId: string | undefined;

  constructor(message: string, details: { encoderId?: string } = {}, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.encoderId = details.encoderId;
  }

  static override isInstance(error: unknown): error is EncoderError {
    return hasName(error, 'UserplugEncoderError');
  }
}

/** A store operation failed, or the store holds data this configuration cannot use. */
export class StoreError extends UserplugError {
  override readonly name = 'UserplugStoreError';
  /** The user whose data the operation touched, when there was one. */
  readonly userId: string | undefined;

  constructor(message: string, details: { userId?: string } = {}, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.userId = details.userId;
  }

  static override isInstance(error: unknown): error is StoreError {
    return hasName(error, 'UserplugStoreError');
  }
}

/** A file userplug reads (history file, trained artifact, model directory) is missing or malformed. */
export class FileFormatError extends UserplugError {
  override readonly name = 'UserplugFileFormatError';
  /** Path of the file. */
  readonly path: string;

  constructor(path: string, message: string, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.path = path;
  }

  static override isInstance(error: unknown): error is FileFormatError {
    return hasName(error, 'UserplugFileFormatError');
  }
}

/** The call was cancelled through its `AbortSignal`. Nothing of the aborted batch or request was stored. */
export class AbortError extends UserplugError {
  override readonly name = 'UserplugAbortError';
  /** The signal's reason, when it gave one. */
  readonly reason: unknown;

  constructor(message: string, details: { reason?: unknown } = {}, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.reason = details.reason;
  }

  static override isInstance(error: unknown): error is AbortError {
    return hasName(error, 'UserplugAbortError');
  }
}

/** Rejects with an {@link AbortError} when the signal has fired; `what` names the call (`personalize for user "u1"`). */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new AbortError(`${what} was aborted.`, { reason: signal.reason }, { cause: signal.reason });
  }
}

/** What a {@link ProviderError} carries besides its message. */
export interface ProviderErrorDetails {
  /** Which provider: `openai`, `anthropic`, `onnx`, … */
  provider: string;
  /** HTTP status, when the provider answered. */
  status?: number;
  /** The provider's request id, for its support. */
  requestId?: string;
  /** Whether sending the same request again may succeed. Default: the subclass's (rate limit, overload and connection errors are). */
  retryable?: boolean;
  /** Seconds the provider asked to wait before retrying, when it said. */
  retryAfterSeconds?: number;
}

/**
 * A hosted or local LLM call failed. Subclasses name the failures callers handle differently:
 * {@link RateLimitError}, {@link AuthenticationError}, {@link PermissionDeniedError}, {@link NotFoundError},
 * {@link OverloadedError}, {@link BadRequestError}, {@link ConnectionError}. `isRetryable` says whether the same
 * request may succeed later (the vendor SDK has already spent its own retries).
 */
export class ProviderError extends UserplugError {
  override readonly name: string = 'UserplugProviderError';
  /** Which provider: `openai`, `anthropic`, `onnx`, … */
  readonly provider: string;
  /** HTTP status, when the provider answered. */
  readonly status: number | undefined;
  /** The provider's request id, for its support. */
  readonly requestId: string | undefined;
  /** Seconds the provider asked to wait before retrying, when it said. */
  readonly retryAfterSeconds: number | undefined;
  private readonly retryable: boolean | undefined;

  constructor(message: string, details: ProviderErrorDetails, options: UserplugErrorOptions = {}) {
    super(message, options);
    this.provider = details.provider;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryable = details.retryable;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** Whether sending the same request again may succeed (rate limits, overload, network). */
  get isRetryable(): boolean {
    return this.retryable ?? this.retryableByDefault;
  }

  /** Whether this kind of failure is retryable when the details did not say. */
  protected get retryableByDefault(): boolean {
    return false;
  }

  static override isInstance(error: unknown): error is ProviderError {
    return UserplugError.isInstance(error) && error.name.startsWith('UserplugProvider');
  }
}

/** 429: too many requests or tokens. Retryable after `retryAfterSeconds`. */
export class RateLimitError extends ProviderError {
  override readonly name = 'UserplugProviderRateLimitError';
  protected override get retryableByDefault(): boolean {
    return true;
  }
  static override isInstance(error: unknown): error is RateLimitError {
    return hasName(error, 'UserplugProviderRateLimitError');
  }
}

/** 401: the API key is missing, wrong or revoked. Not retryable: fix the key. */
export class AuthenticationError extends ProviderError {
  override readonly name = 'UserplugProviderAuthenticationError';
  static override isInstance(error: unknown): error is AuthenticationError {
    return hasName(error, 'UserplugProviderAuthenticationError');
  }
}

/** 403: the key may not use this model or resource. Not retryable. */
export class PermissionDeniedError extends ProviderError {
  override readonly name = 'UserplugProviderPermissionDeniedError';
  static override isInstance(error: unknown): error is PermissionDeniedError {
    return hasName(error, 'UserplugProviderPermissionDeniedError');
  }
}

/** 404: no such model or endpoint. Not retryable: check the model id and base URL. */
export class NotFoundError extends ProviderError {
  override readonly name = 'UserplugProviderNotFoundError';
  static override isInstance(error: unknown): error is NotFoundError {
    return hasName(error, 'UserplugProviderNotFoundError');
  }
}

/** 5xx, 529 or an overloaded provider. Retryable later. */
export class OverloadedError extends ProviderError {
  override readonly name = 'UserplugProviderOverloadedError';
  protected override get retryableByDefault(): boolean {
    return true;
  }
  static override isInstance(error: unknown): error is OverloadedError {
    return hasName(error, 'UserplugProviderOverloadedError');
  }
}

/** 400, 413, 422, or a response the adapter cannot read: the request cannot work as is. Not retryable. */
export class BadRequestError extends ProviderError {
  override readonly name = 'UserplugProviderBadRequestError';
  static override isInstance(error: unknown): error is BadRequestError {
    return hasName(error, 'UserplugProviderBadRequestError');
  }
}

/** The request never reached the provider, or it timed out. Retryable. */
export class ConnectionError extends ProviderError {
  override readonly name = 'UserplugProviderConnectionError';
  protected override get retryableByDefault(): boolean {
    return true;
  }
  static override isInstance(error: unknown): error is ConnectionError {
    return hasName(error, 'UserplugProviderConnectionError');
  }
}
