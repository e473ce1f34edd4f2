/** Options of {@link LogLineFormatter}. */
export interface LogLineFormatterOptions {
  /** Width the process names are padded to. Default 14. */
  nameWidth?: number;
  /** ANSI colours (for a terminal). Default false. */
  color?: boolean;
  /** Time source for the line's clock. Default `() => new Date()`. */
  clock?: () => Date;
}

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLORS: Readonly<Record<number, string>> = { 40: '33', 50: '31', 60: '31' };
const NAME_COLORS = ['36', '35', '32', '34', '33', '96', '95', '92', '94'];
/** pino fields every line carries that say nothing to a person reading the merged stream. */
const DROPPED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'app', 'v']);

/**
 * Turns one line a process printed into one line of the merged log:
 * `HH:MM:SS name  LEVEL message key=value ...`. pino JSON lines are unpacked (the
 * time, pid, hostname and app fields dropped, others compact JSON); any other line
 * is kept as it is. It never throws: a line that is not pino JSON is just text.
 */
export class LogLineFormatter {
  private readonly nameWidth: number;
  private readonly color: boolean;
  private readonly clock: () => Date;
  private readonly nameColors = new Map<string, string>();

  constructor(options: LogLineFormatterOptions = {}) {
    this.nameWidth = options.nameWidth ?? 14;
    this.color = options.color ?? false;
    this.clock = options.clock ?? (() => new Date());
  }

  /** The merged-log line (without a trailing newline) for `line` printed by `name`. */
  format(name: string, line: string): string {
    const record = parsePinoLine(line);
    const time = record && typeof record['time'] === 'number' ? new Date(record['time']) : this.clock();
    const clock = time.toISOString().slice(11, 19);
    const prefix = `${clock} ${this.paint(this.colorOf(name), name.padEnd(this.nameWidth))}`;
    if (!record) return `${prefix} ${line}`;
    const level = typeof record['level'] === 'number' ? record['level'] : 30;
    const levelText = this.paint(LEVEL_COLORS[level], LEVELS[level] ?? String(level).padEnd(5));
    const fields = Object.entries(record)
      .filter(([k]) => !DROPPED.has(k))
      .map(([k, v]) => `${k}=${formatValue(v)}`);
    const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
    return [prefix, levelText, msg, ...fields].filter((s) => s !== '').join(' ');
  }

  private colorOf(name: string): string {
    let c = this.nameColors.get(name);
    if (c === undefined) {
      c = NAME_COLORS[this.nameColors.size % NAME_COLORS.length] ?? '36';
      this.nameColors.set(name, c);
    }
    return c;
  }

  private paint(code: string | undefined, text: string): string {
    return this.color && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
  }
}

/** The object of a pino JSON line, or undefined for any other line. */
export function parsePinoLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    return 'level' in record || 'msg' in record ? record : undefined;
  } catch {
    return undefined;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object') {
    const err = value as { type?: unknown; message?: unknown; stack?: unknown };
    // pino serialises errors as {type, message, stack}: the stack goes on its own lines.
    if (typeof err.message === 'string' && typeof err.stack === 'string') return `\n${err.stack}`;
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * Splits a byte stream into lines: `push` returns the complete lines so far and keeps
 * the unfinished tail; `flush` returns it at the end. A line longer than `maxLine`
 * characters is cut there (a process that never prints a newline cannot grow memory).
 */
export class LineSplitter {
  private tail = '';

  constructor(private readonly maxLine = 64 * 1024) {}

  /** The complete lines in `tail + chunk`, without their newlines. */
  push(chunk: string): string[] {
    const parts = (this.tail + chunk).split('\n');
    this.tail = parts.pop() ?? '';
    const lines: string[] = [];
    for (const p of parts) lines.push(p.endsWith('\r') ? p.slice(0, -1) : p);
    while (this.tail.length > this.maxLine) {
      lines.push(this.tail.slice(0, this.maxLine));
      this.tail = this.tail.slice(this.maxLine);
    }
    return lines;
  }

  /** What is left (an unterminated last line), or nothing. */
  flush(): string[] {
    const rest = this.tail;
    this.tail = '';
    return rest ? [rest] : [];
  }
}
