/**
 * The protobuf wire format, read just far enough for the few messages kube-sim
 * decodes (typed clients send them as `application/vnd.kubernetes.protobuf`).
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
