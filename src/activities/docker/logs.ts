// A container's logs through the Docker API: both streams (demultiplexed), and the tail of
// stderr quoted in error messages.
import type Docker from 'dockerode';
import { lastLines, STDERR_LINES } from '../../common/text-tail';
import { rethrow, statusOf } from './engine';

/**
 * Splits the engine's multiplexed log stream (containers without a TTY): each frame is an
 * 8-byte header [stream, 0, 0, 0, size (uint32 big-endian)] followed by `size` bytes.
 */
export function demuxLogs(buf: Buffer): { stdout: Buffer; stderr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i];
    const size = buf.readUInt32BE(i + 4);
    const frame = buf.subarray(i + 8, i + 8 + size);
    (stream === 2 ? err : out).push(frame);
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** Both streams of a container's log, whole (from the json-file log, bounded by rotation). */
export async function containerLogs(docker: Docker, idOrName: string, opts: { stdout?: boolean; stderr?: boolean; tail?: number } = {}) {
  try {
    const buf = await docker.getContainer(idOrName).logs({
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      follow: false,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    });
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(buf as unknown as string));
  } catch (e) {
    if (statusOf(e) === 404) return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    rethrow(e, `reading the logs of ${idOrName}`);
  }
}

/** The last lines a container wrote to stderr, for error messages; '' when there is none. */
export async function stderrTail(docker: Docker, idOrName: string, lines = STDERR_LINES): Promise<string> {
  try {
    // The engine tails before it filters by stream, so ask for more lines than we keep.
    const { stderr } = await containerLogs(docker, idOrName, { stdout: false, stderr: true, tail: 200 });
    return lastLines(stderr.toString('utf8'), lines);
  } catch {
    return ''; // only ever decoration on another error
  }
}
