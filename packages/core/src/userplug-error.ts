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

/** A hosted or local LLM call failed. */
export class ProviderError extends UserplugError {
  override readonly name = 'UserplugProviderError';
  /** Which provider: `openai`, `anthropic`, `onnx`, … */
  readonly provider: string;
  /** HTTP status, when the provider answered. */
  readonly status: number | undefined;
  /** The provider's request id, for its support. */
  readonly requestId: string | undefined;
  /** Whether sending the same request again may succeed (rate limits, overload, network). */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: { provider: string; status?: number; requestId?: string; retryable?: boolean },
    options: UserplugErrorOptions = {},
  ) {
    super(message, options);
    this.provider = details.provider;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryable = details.retryable ?? false;
  }

  static override isInstance(error: unknown): error is ProviderError {
    return hasName(error, 'UserplugProviderError');
  }
}
