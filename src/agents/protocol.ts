// What the example agents and any agent joining their topologies agree on: the forwarding
// metadata (README, "Writing agents") and the shape of a reply's data part.

export const METADATA_KEY = 'a2aDeploy';

export interface Peer {
  id: string;
  url: string;
}

/** One agent's part in an answer. `agent` is unique within a reply's contributions. */
export interface Contribution {
  agent: string;
  /** The agent's module (weather, coordinator, ...), or `unknown` for a peer that is not one of ours. */
  kind: string;
  /** One line, human readable. */
  summary: string;
  result: unknown;
  error?: string;
}

/** The structured (data part) side of every reply. */
export interface ReplyData {
  agent: string;
  result: unknown;
  contributions: Contribution[];
  error?: string;
}

/** What a peer answered (or why it did not). */
export interface PeerReply {
  agent: string;
  url: string;
  ok: boolean;
  text: string;
  result: unknown;
  contributions: Contribution[];
  /** Set when the peer could not be reached or answered with an error. */
  error?: string;
}

/** Print a configuration error and exit non-zero (for use before the server starts). */
export function configError(message: string): never {
  process.stderr.write(`[${process.env.AGENT_ID || 'agent'}] configuration error: ${message}\n`);
  process.exit(2);
}
