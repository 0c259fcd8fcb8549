// Issue 23, item 11 (terminal escapes): what the CLI writes to a terminal shows every control
// character as an escape (C0 but newline and tab, DEL, C1 such as the one-byte CSI, and the bidi
// overrides that reorder a line), while a pipe or a file gets the bytes as they were. The real-pty
// test (test/integration/cli-launch.test.ts) shows it through the CLI; these are the cases.
import { guardTerminalOutput, neutralise } from '../../src/cli/terminal';

test('an agent line that clears the screen, retitles the window and draws a fake line is shown as text', () => {
  expect(neutralise('ok\x1b[2J\x1b]0;pwned\x07\r\x1b[Kfake ok\n\tnext')).toBe('ok\\x1b[2J\\x1b]0;pwned\\x07\\r\\x1b[Kfake ok\n\tnext');
  expect(neutralise('del\x7f csi\x9b31m nul\x00')).toBe('del\\x7f csi\\x9b31m nul\\x00');
  // "txt.exe" shown as "exe.txt" by a right-to-left override, and an isolate: shown, not obeyed.
  expect(neutralise('file \u202etxt.exe \u2066x\u2069')).toBe('file \\u202etxt.exe \\u2066x\\u2069');
  expect(neutralise('plain: café, 東京, emoji 🙂')).toBe('plain: café, 東京, emoji 🙂');
});

test('only a terminal gets the escapes: a pipe keeps the bytes', () => {
  const fake = (isTTY: boolean) => {
    const got: unknown[] = [];
    const stream = { isTTY, write: (chunk: unknown) => (got.push(chunk), true) } as unknown as NodeJS.WriteStream;
    return { stream, got };
  };
  const tty = fake(true);
  const pipe = fake(false);
  guardTerminalOutput([tty.stream, pipe.stream]);
  for (const s of [tty.stream, pipe.stream]) {
    s.write('a\x1b[2Jb\n');
    s.write(Buffer.from('c\x1b]0;t\x07d\n'));
  }
  expect(tty.got).toEqual(['a\\x1b[2Jb\n', 'c\\x1b]0;t\\x07d\n']);
  expect(pipe.got).toEqual(['a\x1b[2Jb\n', Buffer.from('c\x1b]0;t\x07d\n')]);
});
