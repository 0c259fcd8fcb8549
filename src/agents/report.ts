// report: asks its peers (the aggregator) and formats a final report listing every contribution.
import { start } from './runtime';

start({
  name: 'report',
  description: 'Produces a final report listing every contribution of the agents it reached',
  skills: [
    {
      id: 'report',
      name: 'Report',
      description: 'Ask the connected agents and list every contribution',
      tags: ['report'],
      examples: ['the quick brown fox jumps'],
    },
  ],
  async handle({ id, text, unvisitedPeers, callPeers }) {
    const peerReplies = unvisitedPeers.length ? await callPeers(text) : [];
    const contributions = [...new Map(peerReplies.flatMap((r) => r.contributions).map((c) => [c.agent, c])).values()];
    const errors = contributions.filter((c) => c.error);
    const summary = `report on ${JSON.stringify(text)}: ${contributions.length} contribution${contributions.length === 1 ? '' : 's'}${errors.length ? `, ${errors.length} with errors` : ''}`;
    const lines = [`${id}: ${summary}`, ...contributions.map((c) => `  - ${c.agent} (${c.kind}): ${c.summary}`)];
    return {
      summary,
      text: lines.join('\n'),
      result: {
        contributors: contributions.map((c) => c.agent),
        sections: contributions.map((c) => ({ agent: c.agent, kind: c.kind, summary: c.summary, result: c.result })),
      },
      peerReplies,
    };
  },
});
