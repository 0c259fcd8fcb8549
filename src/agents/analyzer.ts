// analyzer: asks its peers (the collector) for the dataset, then applies ANALYSIS:
//   stats  count, mean, min, max of the values
//   trend  least-squares slope of the values against their position
//   words  word count and longest word of the text
import { configError, round, start, words } from './runtime';

const ANALYSES = ['stats', 'trend', 'words'] as const;
type Analysis = (typeof ANALYSES)[number];
const analysis = (process.env.ANALYSIS?.trim() || 'stats').toLowerCase() as Analysis;
if (!ANALYSES.includes(analysis)) configError(`ANALYSIS '${analysis}' is not one of ${ANALYSES.join(', ')}`);

function analyse(values: number[], text: string): { summary: string; result: Record<string, unknown> } {
  switch (analysis) {
    case 'stats': {
      if (values.length === 0) return { summary: 'no data', result: { count: 0, mean: null, min: null, max: null } };
      const mean = round(values.reduce((a, b) => a + b, 0) / values.length);
      const min = Math.min(...values);
      const max = Math.max(...values);
      return { summary: `count ${values.length}, mean ${mean}, min ${min}, max ${max}`, result: { count: values.length, mean, min, max } };
    }
    case 'trend': {
      const n = values.length;
      if (n < 2) return { summary: 'not enough data for a trend', result: { count: n, slope: null, direction: 'unknown' } };
      const mx = (n - 1) / 2;
      const my = values.reduce((a, b) => a + b, 0) / n;
      let sxy = 0;
      let sxx = 0;
      values.forEach((y, x) => {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) ** 2;
      });
      const slope = round(sxy / sxx, 4);
      const direction = slope > 0 ? 'rising' : slope < 0 ? 'falling' : 'flat';
      return { summary: `slope ${slope} per step (${direction})`, result: { count: n, slope, direction } };
    }
    case 'words': {
      const w = words(text);
      const longest = w.reduce((best, x) => ([...x].length > [...best].length ? x : best), '');
      return { summary: `${w.length} words, longest '${longest}'`, result: { words: w.length, longest } };
    }
  }
}

start({
  name: 'analyzer',
  description: `Analyses the collected dataset (${analysis})`,
  skills: [
    {
      id: analysis,
      name: `Analysis: ${analysis}`,
      description: `Applies the '${analysis}' analysis to the dataset from the collector`,
      tags: ['analysis', analysis],
    },
  ],
  async handle({ text, unvisitedPeers, callPeers }) {
    const peerReplies = unvisitedPeers.length ? await callPeers(text) : [];
    const dataset = peerReplies.find((r) => Array.isArray((r.result as { values?: unknown } | null)?.values));
    let values: number[];
    let source: string;
    if (dataset) {
      values = ((dataset.result as { values: unknown[] }).values ?? []).map(Number).filter((v) => Number.isFinite(v));
      source = dataset.agent;
    } else {
      // No collector answered (or none is connected): use the word lengths of the text.
      values = words(text).map((x) => [...x].length);
      source = 'local';
    }
    const failed = peerReplies.filter((r) => !r.ok);
    const { summary, result } = analyse(values, text);
    return {
      summary: `${analysis}: ${summary} (data from ${source})`,
      result: { analysis, ...result, source, ...(failed.length ? { failed: failed.map((r) => r.agent) } : {}) },
      peerReplies,
    };
  },
});
