// text-stage: one stage of a pipeline. Applies STAGE_OP to the text, forwards the result to the next
// stage (its peer, if any) and returns the final text with the trail of stages it went through.
//   STAGE_OP: trim | validate | uppercase | lowercase | reverse-words | count | pass (default pass)
import { configError, start, words } from './runtime';
import type { PeerReply } from './runtime';

type Op = (text: string) => { output: string } | { error: string };
const OPS: Record<string, Op> = {
  trim: (t) => ({ output: t.replace(/\s+/g, ' ').trim() }),
  validate: (t) => (t.trim() === '' ? { error: 'empty text rejected' } : { output: t }),
  uppercase: (t) => ({ output: t.toUpperCase() }),
  lowercase: (t) => ({ output: t.toLowerCase() }),
  'reverse-words': (t) => ({ output: t.trim().split(/\s+/).filter(Boolean).reverse().join(' ') }),
  count: (t) => {
    const n = words(t).length;
    return { output: `${t} [${n} ${n === 1 ? 'word' : 'words'}]` };
  },
  pass: (t) => ({ output: t }),
};

const op = (process.env.STAGE_OP?.trim() || 'pass').toLowerCase();
if (!OPS[op]) configError(`STAGE_OP '${op}' is not one of ${Object.keys(OPS).join(', ')}`);

interface TrailStep {
  agent: string;
  op: string;
  output?: string;
  error?: string;
}
interface StageResult {
  op: string;
  input: string;
  output: string | null;
  final: string | null;
  trail: TrailStep[];
}

const label = (s: TrailStep) => `${s.agent}(${s.op})`;

start({
  name: 'text-stage',
  description: `Pipeline stage applying '${op}' to the text, then handing it to the next stage`,
  skills: [
    {
      id: op,
      name: `Stage: ${op}`,
      description: `Applies '${op}' to the text and forwards the result`,
      tags: ['pipeline', op],
      examples: ['  hello   agent world '],
    },
  ],
  async handle({ id, text, unvisitedPeers, callPeers }) {
    const applied = OPS[op]!(text);
    if ('error' in applied) {
      const trail: TrailStep[] = [{ agent: id, op, error: applied.error }];
      const result: StageResult = { op, input: text, output: null, final: null, trail };
      return {
        summary: `${op}: error: ${applied.error}`,
        text: `${label(trail[0]!)}: error: ${applied.error}`,
        result,
        error: applied.error,
      };
    }
    const own: TrailStep = { agent: id, op, output: applied.output };
    let peerReplies: PeerReply[] = [];
    let trail: TrailStep[] = [own];
    let final = applied.output;
    let error: string | undefined;
    if (unvisitedPeers.length > 0) {
      // A pipeline stage has one next stage; should there be several, each gets the text.
      peerReplies = await callPeers(applied.output);
      const next = peerReplies[0]!;
      const nextResult = next.result as Partial<StageResult> | null;
      if (nextResult && Array.isArray(nextResult.trail)) {
        trail = [own, ...nextResult.trail];
        final = nextResult.final ?? '';
      } else {
        trail = [own, { agent: next.agent, op: '?', ...(next.error ? { error: next.error } : { output: next.text }) }];
        final = next.text;
      }
      error = next.error;
    }
    const result: StageResult = { op, input: text, output: applied.output, final: error ? null : final, trail };
    const path = trail.map(label).join(' -> ');
    const human = error ? `${path}: error: ${error}` : `${path}: ${final}`;
    const summary = `${op}: ${JSON.stringify(text)} -> ${JSON.stringify(applied.output)}`;
    return { summary, text: human, result, peerReplies, ...(error ? { error } : {}) };
  },
});
