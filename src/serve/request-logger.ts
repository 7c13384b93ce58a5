import type { FastifyBaseLogger } from "fastify";

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type Bindings = Record<string, unknown>;
type ChildOptions = Parameters<FastifyBaseLogger["child"]>[1];
type LogArgs = Parameters<FastifyBaseLogger["info"]>;
/** pino's loggers have isLevelEnabled; fastify's logger type leaves it out. */
type ParentLogger = FastifyBaseLogger & { isLevelEnabled?(level: Level): boolean };

/**
 * A request's logger that makes pino's child logger (its bindings serialized, redaction set up)
 * only when a line is written. fastify makes one per request; at `log_level: warn` or above most
 * requests write nothing, and the child cost several µs of each (bench:serve's profile). At the
 * default `info` every /v1 request writes its `request` line, so nothing is saved there.
 */
class LazyChildLogger {
  readonly #parent: ParentLogger;
  readonly #bindings: Bindings;
  readonly #opts: ChildOptions;
  #real: FastifyBaseLogger | undefined;

  constructor(parent: ParentLogger, bindings: Bindings, opts: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#opts = opts;
  }

  #child(): FastifyBaseLogger {
    this.#real ??= this.#parent.child(this.#bindings, this.#opts);
    return this.#real;
  }

  #write(level: Level, args: LogArgs): void {
    const real = this.#real;
    if (real !== undefined) real[level](...args);
    else if (this.#parent.isLevelEnabled?.(level) ?? true) this.#child()[level](...args);
  }

  get level(): string {
    return (this.#real ?? this.#parent).level;
  }
  set level(level: string) {
    this.#child().level = level;
  }
  fatal(...args: LogArgs): void {
    this.#write("fatal", args);
  }
  error(...args: LogArgs): void {
    this.#write("error", args);
  }
  warn(...args: LogArgs): void {
    this.#write("warn", args);
  }
  info(...args: LogArgs): void {
    this.#write("info", args);
  }
  debug(...args: LogArgs): void {
    this.#write("debug", args);
  }
  trace(...args: LogArgs): void {
    this.#write("trace", args);
  }
  silent(): void {}
  child(bindings: Bindings, opts?: ChildOptions): FastifyBaseLogger {
    return this.#child().child(bindings, opts);
  }
}

/**
 * fastify's `childLoggerFactory`: the request's logger, made lazily (see LazyChildLogger). A route
 * or plugin with a level of its own (`logLevel`) gets pino's child at once: the lazy one judges
 * lines by the service's level.
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildOptions,
): FastifyBaseLogger {
  if (opts?.level !== undefined) return logger.child(bindings, opts);
  return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
}
