// Small text helpers shared by the example agents.

/** Words of a text: letters/digits with inner apostrophes or hyphens, punctuation stripped. */
export function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  const r = Math.round(n * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

export const indent = (text: string, prefix = '  '): string =>
  text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
