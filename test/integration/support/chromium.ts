// Headless Chromium driven over its DevTools pipe (--remote-debugging-pipe: commands on fd 3,
// answers on fd 4, one JSON message per NUL), so a test can read what a person sees on a page
// with Debian's chromium alone: no puppeteer, no browser download, no WebSocket client.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { sleep } from '../../../src/common/sleep';

export interface Page {
  /** Loads the URL and polls the page's visible text until `until` holds (or the time is up); returns that text. */
  textOf(url: string, until: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  screenshot(): Promise<Buffer>;
  close(): void;
}

export async function openPage(): Promise<Page> {
  const chrome = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', '--window-size=1400,2400'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const toChrome = chrome.stdio[3] as Writable;
  const fromChrome = chrome.stdio[4] as Readable;
  type Answer = { id?: number; result?: Record<string, unknown>; error?: { message: string } };
  const waiting = new Map<number, (m: Answer) => void>();
  let buf = '';
  let next = 0;
  fromChrome.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let i = buf.indexOf('\0'); i >= 0; i = buf.indexOf('\0')) {
      const m = JSON.parse(buf.slice(0, i)) as Answer;
      buf = buf.slice(i + 1);
      if (m.id !== undefined) waiting.get(m.id)?.(m);
      if (m.id !== undefined) waiting.delete(m.id);
    }
  });
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      toChrome.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  return {
    async textOf(url, until, timeoutMs = 30_000) {
      await send('Page.navigate', { url }, sessionId);
      const deadline = Date.now() + timeoutMs;
      let text = '';
      while (Date.now() < deadline) {
        await sleep(500);
        const r = await send(
          'Runtime.evaluate',
          { expression: 'document.body ? document.body.innerText : ""', returnByValue: true },
          sessionId,
        );
        text = String(r.result?.value ?? '');
        if (until(text)) break;
      }
      return text;
    },
    async screenshot() {
      const r = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
      return Buffer.from(r.data as string, 'base64');
    },
    close: () => void chrome.kill('SIGKILL'),
  };
}
