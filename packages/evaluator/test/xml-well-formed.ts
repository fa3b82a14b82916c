/**
 * A small XML well-formedness check for the SVGs the report writes: every tag closes in order,
 * attributes are quoted, entities are known, and there is one root. Returns the element names
 * seen (in document order) so tests can look for marks. Throws on the first problem.
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    checkText(text);
    if (lt < 0) break;
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text.slice(0, 40)}`);
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt);
      if (end < 0) throw new Error('unclosed comment');
      i = end + 3;
      continue;
    }
    const gt = findTagEnd(xml, lt);
    const tag = xml.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z_][\w:.-]*)(.*)$/s.exec(body);
      if (!m) throw new Error(`bad tag <${tag.slice(0, 40)}>`);
      const rest = m[2]!.replace(/\s+[\w:.-]+\s*=\s*("[^"]*"|'[^']*')/g, '');
      if (rest.trim() !== '') throw new Error(`bad attributes in <${m[1]}>: ${rest.trim().slice(0, 40)}`);
      for (const a of m[2]!.matchAll(/=\s*"([^"]*)"/g)) checkText(a[1]!);
      if (stack.length === 0) roots++;
      names.push(m[1]!);
      if (!selfClosing) stack.push(m[1]!);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

function findTagEnd(xml: string, lt: number): number {
  let quote: string | null = null;
  for (let j = lt + 1; j < xml.length; j++) {
    const c = xml[j]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '<') throw new Error(`'<' inside a tag at ${j}`);
    else if (c === '>') return j;
  }
  throw new Error('unclosed tag');
}

function checkText(text: string): void {
  for (const m of text.matchAll(/&([^;\s]*);?/g)) {
    if (!/^(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(m[1]!) || !m[0].endsWith(';')) throw new Error(`bad entity ${m[0]}`);
  }
}
