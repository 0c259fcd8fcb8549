// region: an inner node (or the root) of a hierarchy. Asks its children and aggregates every leaf
// reading below it: count, mean, min, max, labelled with LABEL (default: the agent id).
import { round, start } from './runtime';

interface Reading {
  agent: string;
  city: string;
  celsius: number;
}

const isReading = (r: unknown): r is { city: string; celsius: number } =>
  !!r && typeof r === 'object' && typeof (r as Reading).city === 'string' && typeof (r as Reading).celsius === 'number';

start({
  name: 'region',
  description: 'Aggregates the temperature readings of the sensors and regions below it',
  skills: [
    {
      id: 'aggregate',
      name: 'Aggregate readings',
      description: 'Count, mean, min and max of every reading below this node',
      tags: ['hierarchy', 'temperature'],
      examples: ['report temperatures'],
    },
  ],
  async handle({ id, text, unvisitedPeers, callPeers }) {
    const label = process.env.LABEL?.trim() || id;
    const peerReplies = unvisitedPeers.length ? await callPeers(text) : [];
    const readings: Reading[] = [];
    for (const r of peerReplies) {
      if (!r.ok) continue;
      const res = r.result as { readings?: unknown } | null;
      if (isReading(res)) readings.push({ agent: r.agent, city: res.city, celsius: res.celsius });
      else if (Array.isArray(res?.readings))
        for (const x of res.readings)
          if (isReading(x)) readings.push({ agent: String((x as Reading).agent ?? r.agent), city: x.city, celsius: x.celsius });
    }
    const failed = peerReplies.filter((r) => !r.ok).map((r) => r.agent);
    const values = readings.map((r) => r.celsius);
    const count = values.length;
    const mean = count ? round(values.reduce((a, b) => a + b, 0) / count) : null;
    const min = count ? Math.min(...values) : null;
    const max = count ? Math.max(...values) : null;
    const summary = count
      ? `${label}: ${count} reading${count === 1 ? '' : 's'}, mean ${mean}°C, min ${min}°C, max ${max}°C${failed.length ? ` (no answer from ${failed.join(', ')})` : ''}`
      : `${label}: no readings${failed.length ? ` (no answer from ${failed.join(', ')})` : ''}`;
    return { summary, result: { label, count, mean, min, max, readings, ...(failed.length ? { failed } : {}) }, peerReplies };
  },
});
