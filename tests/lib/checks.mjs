// Many named checks inside one node:test test, for suites that measure first and judge a list
// of things after (abuse, chaos): each check is printed as it is made (a diagnostic of the test)
// and does not stop the test, so every later check still runs; the test fails at its end,
// naming every check that failed.
//
//   test('slowloris', async (t) => { const check = checks(t); ...; check('...', ok, detail); check.done(); });
import assert from 'node:assert/strict';

export function checks(t) {
  const failed = [];
  const check = (name, ok, detail = '') => {
    t.diagnostic(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `  (${detail})` : ''}`);
    if (!ok) failed.push(detail ? `${name}: ${detail}` : name);
    return Boolean(ok);
  };
  check.done = () => assert.deepEqual(failed, [], `${failed.length} check(s) failed:\n  ${failed.join('\n  ')}`);
  return check;
}
