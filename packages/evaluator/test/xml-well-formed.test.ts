import { describe, expect, it } from 'vitest';
import { checkXml } from './xml-well-formed.js';

describe('checkXml (test helper)', () => {
  it('accepts well-formed XML and lists its elements', () => {
    expect(checkXml('<?xml version="1.0"?><svg a="1"><g><path d="M0"/></g><text>x &amp; y</text></svg>')).toEqual([
      'svg',
      'g',
      'path',
      'text',
    ]);
  });
  it('rejects what a browser would refuse', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => checkXml('<svg a=1></svg>')).toThrow(/attributes/);
    expect(() => checkXml('<svg>a & b</svg>')).toThrow(/entity/);
    expect(() => checkXml('<svg/><svg/>')).toThrow(/root/);
    expect(() => checkXml('<svg><g>')).toThrow(/unclosed/);
  });
});
