import t from 'tap';
import { OutputCollector } from '../../lib/output-collector.js';

t.test('below the cap everything is kept', async (t) => {
  const c = new OutputCollector(10);
  t.equal(c.text(), '');
  t.equal(c.truncated, false);
  c.add(Buffer.from('hello'));
  c.add(Buffer.from(''));
  c.add(Buffer.from('world'));
  t.equal(c.text(), 'helloworld');
  t.equal(c.total, 10);
  t.equal(c.truncated, false, 'exactly the cap is not truncated');
});

t.test('past the cap only the head is kept; every byte is counted', async (t) => {
  const c = new OutputCollector(8);
  c.add(Buffer.from('12345'));
  c.add(Buffer.from('6789abc'));
  t.equal(c.text(), '12345678');
  t.equal(c.total, 12);
  t.equal(c.truncated, true);
  c.add(Buffer.from('more'));
  c.add(Buffer.alloc(1_000_000));
  t.equal(c.text(), '12345678', 'later output changes nothing kept');
  t.equal(c.total, 1_000_016);
});

t.test('a first chunk larger than the cap is cut', async (t) => {
  const c = new OutputCollector(3);
  c.add(Buffer.from('abcdef'));
  t.equal(c.text(), 'abc');
  t.equal(c.total, 6);
  t.equal(c.truncated, true);
});

t.test('a zero cap keeps nothing and says so', async (t) => {
  const c = new OutputCollector(0);
  c.add(Buffer.from('x'));
  t.equal(c.text(), '');
  t.equal(c.total, 1);
  t.equal(c.truncated, true);
});

t.test('kept bytes are copies: reusing the source buffer does not change them', async (t) => {
  const c = new OutputCollector(100);
  const source = Buffer.from('original');
  c.add(source);
  c.add(source.subarray(0, 4));
  source.fill('X');
  t.equal(c.text(), 'originalorig');
});
