/** Base class of the errors the sandbox raises, so callers can catch them as one family. */
export class SandboxError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SandboxError';
  }
}

/**
 * A scenario that cannot be used: unknown built-in name, unreadable file, invalid JSON, a field
 * that fails validation, or an environment variable that does not hold a byte count. The message
 * names the file (or the scenario) and the problem.
 */
export class ScenarioError extends SandboxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScenarioError';
  }
}

/** Invalid `startSandbox` options, such as a host that is not a loopback address. */
export class SandboxOptionsError extends SandboxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SandboxOptionsError';
  }
}

/** A request body larger than the sandbox reads. The server responds with 413. */
export class RequestBodyTooLargeError extends SandboxError {
  constructor(maxBytes: number) {
    super(`request body is larger than ${maxBytes} bytes`);
    this.name = 'RequestBodyTooLargeError';
  }
}
