// Durations as people type them: '500ms', '30s', '2m', '1h' (the job file's units), '7d', or a
// bare number of seconds. One parser for the CLI's options, the API and A2A_DEPLOY_RETENTION.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The duration in milliseconds, or undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  if (text.length > 20) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]) : undefined;
}

/** The largest whole unit: 7d, 36h, 90m, 30s, 250ms. */
export const formatMs = (ms: number) =>
  ms % 86_400_000 === 0
    ? `${ms / 86_400_000}d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000}h`
      : ms % 60_000 === 0
        ? `${ms / 60_000}m`
        : ms % 1000 === 0
          ? `${ms / 1000}s`
          : `${ms}ms`;
