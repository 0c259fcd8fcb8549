// Where an agent serves its card besides the SDK's AGENT_CARD_PATH: the path of agents before
// A2A 0.3, which the example agents still serve and the a2a readiness probe still tries.
export const LEGACY_CARD_PATH = '/.well-known/agent.json';
