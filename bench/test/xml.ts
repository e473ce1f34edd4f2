/** An element of a parsed XML document: its name, attributes and direct text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
}

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: string): void {
  if (text.includes('<')) throw new Error(`unescaped "<" in ${where}`);
  if (text.replace(ENTITY, '').includes('&'))
    throw new Error(`unescaped "&" in ${where}: ${text.slice(0, 80)}`);
}

/**
 * Checks that `source` is a well-formed XML document (one root, tags balanced and
 * nested, attributes quoted and unique, text and attribute values escaped) and
 * returns its elements in document order; throws naming the first fault. Enough for
 * the SVG the report writes (no DTD, no CDATA); a test helper, not a general parser.
 */
export function parseXml(source: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt < 0 ? source.length : lt);
    if (stack.length === 0 && text.trim() !== '')
      throw new Error(`text outside the root: ${text.slice(0, 40)}`);
    checkText(text, 'text');
    if (lt < 0) break;
    if (source.startsWith('<?xml', lt) && lt === 0) {
      i = source.indexOf('?>', lt) + 2;
      continue;
    }
    if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    tag.lastIndex = lt;
    const m = tag.exec(source);
    if (!m) throw new Error(`malformed tag at ${lt}: ${source.slice(lt, lt + 60)}`);
    const [, closing, name = '', rawAttrs = '', selfClosing] = m;
    if (closing) {
      if (rawAttrs || selfClosing) throw new Error(`malformed closing tag </${name}>`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${String(open)}>`);
    } else {
      if (stack.length === 0 && ++roots > 1) throw new Error('more than one root element');
      const attrs: Record<string, string> = {};
      for (const a of rawAttrs.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const key = a[1] as string;
        if (key in attrs) throw new Error(`duplicate attribute ${key} on <${name}>`);
        const value = a[2] ?? a[3] ?? '';
        checkText(value, `attribute ${key} of <${name}>`);
        attrs[key] = value;
      }
      elements.push({ name, attrs });
      if (!selfClosing) stack.push(name);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error('no root element');
  return elements;
}
