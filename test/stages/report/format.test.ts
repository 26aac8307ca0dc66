import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField, escapeHtml, formatDuration, formatNumber, jsonForScript, roundSig } from '../../../stages/report/format.js';

test('numbers show significant digits, thousands grouped, tiny values in exponent form', () => {
  assert.equal(formatNumber(0.84321, 4), '0.8432');
  assert.equal(formatNumber(8311.29, 4), '8311');
  assert.equal(formatNumber(65536, 4), '65,536');
  assert.equal(formatNumber(0.00012345, 3), '1.23e-4');
  assert.equal(formatNumber(null), '—');
  assert.equal(formatNumber(Number.NaN), '—');
  assert.equal(formatNumber(0), '0');
  assert.equal(roundSig(0.123456, 3), 0.123);
});

test('JSON inside a script element cannot close it', () => {
  const text = jsonForScript({ t: '</script><!-- & \u2028' });
  assert.ok(!text.includes('</script>') && !text.includes('<!--'));
  assert.deepEqual(JSON.parse(text), { t: '</script><!-- & \u2028' });
});

test('escaping for HTML and CSV', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.5), '0.5');
  assert.equal(formatDuration(75), '1 min 15 s');
  assert.equal(formatDuration(3725), '1 h 02 min');
});
