// coordinator: a hub. Forwards the text to every (unvisited) peer and combines their answers.
import { start } from './runtime';

start({
  name: 'coordinator',
  description: 'Forwards a request to its connected agents and combines their answers',
  skills: [
    {
      id: 'coordinate',
      name: 'Coordinate',
      description: 'Ask every connected agent and combine the answers',
      tags: ['hub', 'aggregate'],
      examples: ['What is the weather in Paris and how far is it from Paris to Berlin?'],
    },
  ],
  async handle({ text, unvisitedPeers, callPeers }) {
    if (unvisitedPeers.length === 0) return { summary: 'no peers to ask', result: { asked: [], answered: [], failed: [] } };
    const replies = await callPeers(text);
    const answered = replies.filter((r) => r.ok).map((r) => r.agent);
    const failed = replies.filter((r) => !r.ok).map((r) => r.agent);
    const summary = `combined answers from ${answered.join(', ') || 'nobody'}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`;
    return { summary, result: { asked: unvisitedPeers.map((p) => p.id), answered, failed }, peerReplies: replies };
  },
});
