import { UserplugError, type UserplugErrorOptions } from '@userplug/core';

/** A download failed: the server answered with an error, the connection broke, or the file failed its checks. */
export class DownloadError extends UserplugError {
  override readonly name = 'UserplugDownloadError';
  /** The URL. */
  readonly url: string;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Whether trying again may succeed (network errors, 5xx). */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: { url: string; status?: number; retryable?: boolean },
    options: UserplugErrorOptions = {},
  ) {
    super(message, options);
    this.url = details.url;
    this.status = details.status;
    this.retryable = details.retryable ?? false;
  }

  static override isInstance(error: unknown): error is DownloadError {
    return UserplugError.isInstance(error) && error.name === 'UserplugDownloadError';
  }
}
