/**
 * Thrown (one shared instance: no stack to capture) when the scanner meets
 * something it leaves to `JSON.parse`: invalid JSON, a shape it does not expect,
 * nesting too deep. Callers catch it and decode the same text the ordinary way, so
 * the scanner only ever has to be exact on what it accepts.
 */
export class ScanFallback extends Error {
  constructor() {
    super('left to JSON.parse');
    this.name = 'ScanFallback';
  }
}

const FALLBACK = new ScanFallback();

/** Throws the shared {@link ScanFallback}. */
export function fallback(): never {
  throw FALLBACK;
}

/**
 * A copy of `text` that shares no memory with the string it was sliced from. V8
 * slices strings of 13 characters or more as views of their parent; joining one with
 * a character and slicing that off makes a flat string of its own.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : (text + ' ').slice(0, -1);
}

/** Nesting deeper than this is left to JSON.parse (the scanner recurses; pods nest ~8 deep). */
const MAX_DEPTH = 64;

/** The states of {@link JsonScanner.skipComposite}: what may come next. */
const VALUE = 0;
const VALUE_OR_CLOSE = 1;
const KEY = 2;
const KEY_OR_CLOSE = 3;
const COLON_NEXT = 4;
const AFTER_VALUE = 5;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * A validating cursor over JSON text that walks it without building anything:
 * objects key by key, arrays element by element, values skipped or read (strings
 * sliced, sub-trees handed to `JSON.parse` on their own). It accepts the JSON grammar
 * (RFC 8259, as `JSON.parse` does): whatever else it meets, and nesting beyond
 * {@link MAX_DEPTH}, throws {@link ScanFallback}. Strings are found with `indexOf`
 * and only those holding a backslash are walked character by character, which is
 * what makes it cheaper than `JSON.parse` on a large object the caller needs a few
 * fields of. The one leniency that buys: a raw control character (U+0000..U+001F)
 * inside a string without escapes is accepted where `JSON.parse` rejects the text;
 * the API server never sends one (Go's encoder escapes them), and finding one would
 * cost a second pass over every line.
 *
 * Objects and arrays are walked with {@link enterObject}/{@link nextKey} and
 * {@link enterArray}/{@link nextElement}: after `nextKey` returns true the cursor is
 * on the key's value, which the caller must read or skip before asking again.
 */
export class JsonScanner {
  private text = '';
  private end = 0;
  /** Where the cursor is. */
  pos = 0;
  /** The raw key last read by {@link nextKey}: [keyStart, keyEnd) of the text, quotes excluded. */
  private keyStart = 0;
  private keyEnd = 0;
  /** The key holds an escape: compare its decoded form. */
  private keyDecoded: string | undefined;
  /** Per container open in {@link skipComposite}: 1 object, 0 array. */
  private readonly stack = new Uint8Array(MAX_DEPTH);
  /** Per open object or array: true until its first member was read. */
  private readonly first: boolean[] = [];
  private depth = 0;
  /** The next backslash at or after `backslashFrom` (text length: none). */
  private backslashAt = -1;
  private backslashFrom = 0;

  /** Starts on `text` from `start` to `end` (exclusive). */
  reset(text: string, start = 0, end = text.length): void {
    this.text = text;
    this.pos = start;
    this.end = end;
    this.depth = 0;
    this.backslashAt = -1;
    this.backslashFrom = start;
  }

  /** The text being scanned. */
  get source(): string {
    return this.text;
  }

  /** Throws {@link ScanFallback} unless only whitespace is left. */
  finish(): void {
    this.ws();
    if (this.pos !== this.end) fallback();
  }

  /** The character code of the next value (after whitespace), or -1 at the end. */
  peek(): number {
    this.ws();
    return this.pos < this.end ? this.text.charCodeAt(this.pos) : -1;
  }

  /** True when the next value is `null` (consumed then). */
  takeNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.literal('null');
    return true;
  }

  /** Enters the object the cursor is on. */
  enterObject(): void {
    if (this.peek() !== OPEN_BRACE) fallback();
    this.open();
  }

  /**
   * Moves to the next key of the current object: true with the cursor on its value,
   * false (and out of the object) at its end.
   */
  nextKey(): boolean {
    let c = this.peek();
    if (this.first[this.depth]) {
      this.first[this.depth] = false;
      if (c === CLOSE_BRACE) return this.close();
    } else {
      if (c === CLOSE_BRACE) return this.close();
      if (c !== COMMA) fallback();
      this.pos += 1;
      c = this.peek();
    }
    if (c !== QUOTE) fallback();
    const close = this.stringEnd(this.pos);
    this.keyStart = this.pos + 1;
    this.keyEnd = close;
    this.keyDecoded = this.cleanUpTo(close, this.pos)
      ? undefined
      : (JSON.parse(this.text.slice(this.pos, close + 1)) as string);
    this.pos = close + 1;
    if (this.peek() !== COLON) fallback();
    this.pos += 1;
    return true;
  }

  /** True when the key last read by {@link nextKey} is `name`. */
  keyIs(name: string): boolean {
    if (this.keyDecoded !== undefined) return this.keyDecoded === name;
    return this.keyEnd - this.keyStart === name.length && this.text.startsWith(name, this.keyStart);
  }

  /** Enters the array the cursor is on. */
  enterArray(): void {
    if (this.peek() !== OPEN_BRACKET) fallback();
    this.open();
  }

  /** Moves to the next element of the current array: true with the cursor on it, false (and out) at its end. */
  nextElement(): boolean {
    const c = this.peek();
    if (this.first[this.depth]) {
      this.first[this.depth] = false;
      if (c === CLOSE_BRACKET) return this.close();
      return true;
    }
    if (c === CLOSE_BRACKET) return this.close();
    if (c !== COMMA) fallback();
    this.pos += 1;
    return true;
  }

  /** Reads the string value the cursor is on (anything else falls back). */
  readString(): string {
    if (this.peek() !== QUOTE) fallback();
    const open = this.pos;
    const close = this.stringEnd(open);
    this.pos = close + 1;
    if (this.cleanUpTo(close, open)) return this.text.slice(open + 1, close);
    return JSON.parse(this.text.slice(open, close + 1)) as string;
  }

  /** Skips the value the cursor is on, validating it; returns where it started (after whitespace). */
  skipValue(): number {
    const c = this.peek();
    const start = this.pos;
    switch (c) {
      case QUOTE:
        this.pos = this.stringEnd(start) + 1;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        this.skipComposite();
        break;
      case 0x74:
        this.literal('true');
        break;
      case 0x66:
        this.literal('false');
        break;
      case 0x6e:
        this.literal('null');
        break;
      default:
        this.number();
    }
    return start;
  }

  /**
   * Skips the object or array the cursor is on: one loop over its tokens with the
   * grammar as a state machine and the open containers on a stack (no call per
   * member: most of a pod is skipped here).
   */
  private skipComposite(): void {
    const text = this.text;
    const stack = this.stack;
    let pos = this.pos;
    const first = text.charCodeAt(pos);
    stack[0] = first === OPEN_BRACE ? 1 : 0;
    let depth = 1;
    let state = first === OPEN_BRACE ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
    pos += 1;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        pos += 1;
        continue;
      }
      switch (state) {
        case KEY_OR_CLOSE:
        case KEY:
          if (c === QUOTE) {
            pos = this.stringEnd(pos) + 1;
            state = COLON_NEXT;
          } else if (c === CLOSE_BRACE && state === KEY_OR_CLOSE) {
            pos += 1;
            depth -= 1;
            state = AFTER_VALUE;
          } else fallback();
          break;
        case COLON_NEXT:
          if (c !== COLON) fallback();
          pos += 1;
          state = VALUE;
          break;
        case AFTER_VALUE:
          if (c === COMMA) {
            pos += 1;
            state = stack[depth - 1] === 1 ? KEY : VALUE;
          } else if (c === (stack[depth - 1] === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) {
            pos += 1;
            depth -= 1;
          } else fallback();
          break;
        default:
          // VALUE, VALUE_OR_CLOSE
          if (c === QUOTE) {
            pos = this.stringEnd(pos) + 1;
            state = AFTER_VALUE;
          } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            if (depth + this.depth >= MAX_DEPTH) fallback();
            stack[depth] = c === OPEN_BRACE ? 1 : 0;
            depth += 1;
            state = c === OPEN_BRACE ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            pos += 1;
          } else if (c === CLOSE_BRACKET && state === VALUE_OR_CLOSE) {
            pos += 1;
            depth -= 1;
            state = AFTER_VALUE;
          } else {
            this.pos = pos;
            if (c === 0x74) this.literal('true');
            else if (c === 0x66) this.literal('false');
            else if (c === 0x6e) this.literal('null');
            else this.number();
            pos = this.pos;
            state = AFTER_VALUE;
          }
      }
      if (depth === 0) break;
      if (pos >= this.end) fallback();
    }
    this.pos = pos;
  }

  /**
   * Skips the value the cursor is on and tells whether its text may hold one of
   * `needles` as written: false only when none occurs in it and it holds no
   * backslash (an escape could spell one differently).
   */
  skipValueMayHold(needles: readonly string[]): boolean {
    const start = this.skipValue();
    if (this.nextBackslash(start) < this.pos) return true;
    const text = this.text.slice(start, this.pos);
    for (const needle of needles) if (text.includes(needle)) return true;
    return false;
  }

  /** `JSON.parse` of the value the cursor is on (validated by the scan first). */
  parseValue(): unknown {
    const start = this.skipValue();
    return JSON.parse(this.text.slice(start, this.pos)) as unknown;
  }

  private open(): void {
    if (this.depth >= MAX_DEPTH) fallback();
    this.pos += 1;
    this.depth += 1;
    this.first[this.depth] = true;
  }

  private close(): false {
    this.pos += 1;
    this.depth -= 1;
    return false;
  }

  private ws(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos += 1;
      else break;
    }
    this.pos = pos;
  }

  private literal(word: string): void {
    if (this.pos + word.length > this.end || !this.text.startsWith(word, this.pos)) fallback();
    this.pos += word.length;
  }

  /** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` */
  private number(): void {
    const text = this.text;
    let pos = this.pos;
    if (text.charCodeAt(pos) === MINUS) pos += 1;
    const lead = text.charCodeAt(pos);
    if (lead === ZERO) pos += 1;
    else if (isDigit(lead)) while (isDigit(text.charCodeAt(pos))) pos += 1;
    else fallback();
    if (text.charCodeAt(pos) === DOT) {
      pos += 1;
      if (!isDigit(text.charCodeAt(pos))) fallback();
      while (isDigit(text.charCodeAt(pos))) pos += 1;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos += 1;
      const sign = text.charCodeAt(pos);
      if (sign === PLUS || sign === MINUS) pos += 1;
      if (!isDigit(text.charCodeAt(pos))) fallback();
      while (isDigit(text.charCodeAt(pos))) pos += 1;
    }
    if (pos > this.end) fallback();
    this.pos = pos;
  }

  /** True when no backslash lies in (open, close). */
  private cleanUpTo(close: number, open: number): boolean {
    return this.nextBackslash(open + 1) > close;
  }

  /** The position of the next backslash at or after `from` (the text's length: none), cached per text. */
  private nextBackslash(from: number): number {
    if (this.backslashAt < from || from < this.backslashFrom) {
      const found = this.text.indexOf('\\', from);
      this.backslashAt = found < 0 ? this.text.length : found;
      this.backslashFrom = from;
    }
    return this.backslashAt;
  }

  /**
   * The position of the quote closing the string opened at `open`: found with
   * `indexOf` when no backslash comes first, else walked and validated character by
   * character (escapes `\" \\ \/ \b \f \n \r \t \uXXXX`, no control character).
   */
  private stringEnd(open: number): number {
    const text = this.text;
    const quote = text.indexOf('"', open + 1);
    if (quote < 0 || quote >= this.end) fallback();
    if (this.nextBackslash(open + 1) > quote) return quote;
    let pos = open + 1;
    while (pos < this.end) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) return pos;
      if (c < 0x20) fallback();
      if (c !== BACKSLASH) {
        pos += 1;
        continue;
      }
      const e = text.charCodeAt(pos + 1);
      if (e === 0x75) {
        for (let i = 2; i < 6; i++) if (!isHex(text.charCodeAt(pos + i))) fallback();
        pos += 6;
      } else if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        pos += 2;
      } else {
        fallback();
      }
    }
    return fallback();
  }
}
