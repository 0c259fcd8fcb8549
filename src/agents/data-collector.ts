// data-collector: returns a small dataset derived from the text (the lengths of its words), or a
// fixed series when the text has no words. Deterministic.
import { start, words } from './runtime';

const FIXED_SERIES = [3, 1, 4, 1, 5, 9, 2, 6];

start({
  name: 'data-collector',
  description: 'Collects a dataset: the word lengths of the message, or a fixed series for an empty message',
  skills: [
    {
      id: 'collect',
      name: 'Collect',
      description: 'Word lengths of the text as a numeric series',
      tags: ['data'],
      examples: ['the quick brown fox jumps'],
    },
  ],
  handle({ text }) {
    const w = words(text);
    const values = w.length ? w.map((x) => [...x].length) : FIXED_SERIES;
    const source = w.length ? 'word-lengths' : 'fixed-series';
    return { summary: `${values.length} values [${values.join(', ')}] (${source})`, result: { values, source } };
  },
});
