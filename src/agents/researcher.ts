// researcher: a mesh member looking at the text from its own angle (FOCUS):
//   keywords   the 3 longest distinct words
//   summary    the first 5 words
//   questions  the text turned into a question
//   critique   sentence and word counts
// A message from a user is also sent to the (unvisited) peers and their views are combined; a
// message forwarded by another agent is answered locally.
import { configError, start, words } from './runtime';

const FOCI = ['keywords', 'summary', 'questions', 'critique'] as const;
type Focus = (typeof FOCI)[number];
const focus = (process.env.FOCUS?.trim() || 'summary').toLowerCase() as Focus;
if (!FOCI.includes(focus)) configError(`FOCUS '${focus}' is not one of ${FOCI.join(', ')}`);

function look(text: string): { summary: string; result: Record<string, unknown> } {
  const w = words(text);
  switch (focus) {
    case 'keywords': {
      const distinct = [...new Set(w.map((x) => x.toLowerCase()))];
      // Longest first; equal lengths keep their order of appearance (Array.prototype.sort is stable).
      const keywords = distinct.sort((a, b) => [...b].length - [...a].length).slice(0, 3);
      return { summary: `keywords: ${keywords.join(', ') || '(none)'}`, result: { focus, keywords } };
    }
    case 'summary': {
      const first = w.slice(0, 5).join(' ');
      const summary = w.length > 5 ? `${first} …` : first;
      return { summary: `summary: ${summary || '(empty)'}`, result: { focus, summary, words: w.length } };
    }
    case 'questions': {
      const body = text
        .trim()
        .replace(/\s+/g, ' ')
        .replace(/[.!?;:,\s]+$/u, '');
      const question = body === '' ? 'What is the question?' : text.trim().endsWith('?') ? `${body}?` : `What do we know about "${body}"?`;
      return { summary: `question: ${question}`, result: { focus, question } };
    }
    case 'critique': {
      const sentences = text
        .split(/[.!?]+/)
        .map((s) => s.trim())
        .filter((s) => words(s).length > 0).length;
      const note = sentences === 0 ? 'nothing to critique' : w.length / sentences > 25 ? 'sentences are long' : 'reads fine';
      return {
        summary: `critique: ${sentences} sentence${sentences === 1 ? '' : 's'}, ${w.length} words, ${note}`,
        result: { focus, sentences, words: w.length, note },
      };
    }
  }
}

start({
  name: 'researcher',
  description: `Researcher looking at a text from one angle (${focus}); asks its peers when asked by a user`,
  skills: [
    {
      id: focus,
      name: `Research: ${focus}`,
      description: `Looks at the text for ${focus}`,
      tags: ['research', focus],
      examples: ['Agents that talk to each other can answer harder questions.'],
    },
  ],
  async handle({ id, text, forwarded, unvisitedPeers, callPeers }) {
    const own = look(text);
    if (forwarded || unvisitedPeers.length === 0) return own;
    const peerReplies = await callPeers(text);
    const answered = peerReplies.filter((r) => r.ok).map((r) => r.agent);
    return {
      summary: own.summary,
      text: [`${id}: ${own.summary}`, ...peerReplies.map((r) => `  ${r.text}`), `(views from ${[id, ...answered].join(', ')})`].join('\n'),
      result: { ...own.result, asked: unvisitedPeers.map((p) => p.id), answered },
      peerReplies,
    };
  },
});
