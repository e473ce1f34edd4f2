/**
 * The protobuf wire format: read just far enough for the few messages kube-sim
 * decodes (typed clients send them as `application/vnd.kubernetes.protobuf`), and
 * written for the few it encodes (the OpenAPI v2 document kubectl 1.27 and 1.28 read).
 */
/** The prefix of every Kubernetes protobuf body (`k8s\0`). */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** One field of a protobuf message: its number, wire type and, when length-delimited, its bytes. */
export interface Field {
  number: number;
  wireType: number;
  /** For length-delimited fields. */
  bytes?: Buffer;
}

/** The fields of one protobuf message, in order (varints and fixed-width values skipped). Throws RangeError when malformed. */
export function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new RangeError('truncated varint');
      const b = buf[pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new RangeError('varint too long');
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      if (pos + length > buf.length) throw new RangeError('truncated field');
      out.push({ number, wireType, bytes: buf.subarray(pos, pos + length) });
      pos += length;
      continue;
    } else throw new RangeError(`unsupported wire type ${wireType}`);
    out.push({ number, wireType });
  }
  return out;
}

/** A length-delimited field as UTF-8 text. */
export function text(field: Field | undefined): string | undefined {
  return field?.bytes?.toString('utf8');
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * Builds one protobuf message field by field, in the order written. Follows proto3:
 * an empty string and `false` are the defaults and are not written, so a reader
 * sees them as absent, as it would from any other encoder.
 */
export class MessageWriter {
  private readonly chunks: Buffer[] = [];

  private key(number: number, wireType: number): void {
    this.chunks.push(varint(number * 8 + wireType));
  }

  /** A length-delimited field holding `bytes` (an embedded message, written even when empty). */
  bytes(number: number, bytes: Buffer): this {
    this.key(number, 2);
    this.chunks.push(varint(bytes.length), bytes);
    return this;
  }

  /** A string field; the empty string is not written. */
  string(number: number, value: string | undefined): this {
    if (value !== undefined && value !== '') this.bytes(number, Buffer.from(value, 'utf8'));
    return this;
  }

  /** A repeated string field: one entry per value, empty ones included. */
  strings(number: number, values: readonly string[] | undefined): this {
    for (const value of values ?? []) this.bytes(number, Buffer.from(value, 'utf8'));
    return this;
  }

  /** A bool field; false is not written. */
  bool(number: number, value: boolean | undefined): this {
    if (value === true) {
      this.key(number, 0);
      this.chunks.push(varint(1));
    }
    return this;
  }

  /** An embedded message field, written only when `message` is given. */
  message(number: number, message: MessageWriter | undefined): this {
    if (message !== undefined) this.bytes(number, message.finish());
    return this;
  }

  /** The encoded message. */
  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
