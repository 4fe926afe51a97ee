/** The logging a handler gets: the Functions InvocationContext satisfies it. @module */
export interface Logger {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}
