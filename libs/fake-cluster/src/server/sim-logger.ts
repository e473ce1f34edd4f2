/**
 * The structured logger kube-sim writes to: pino's call shape (`info(fields, msg)`),
 * so an app passes its pino logger as is and tests pass nothing (the default
 * discards everything; libraries never write to the console).
 */
export interface SimLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** A logger that discards everything. */
export const silentLogger: SimLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
