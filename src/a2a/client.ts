// The A2A client every part of a2a-deploy uses to call an agent (the example agents calling their
// peers, `a2a-deploy send`): any A2A agent, v1.0 or v0.3 (the SDK's legacy compatibility), over
// JSON-RPC or HTTP+JSON, whichever its card prefers.
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client';

export function a2aClientFactory(cardTimeoutMs = 10_000): ClientFactory {
  return new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [
        new JsonRpcTransportFactory({ legacyCompat: { enabled: true } }),
        new RestTransportFactory({ legacyCompat: { enabled: true } }),
      ],
      // An agent that accepts the connection but never answers must not hold the card fetch forever.
      cardResolver: new DefaultAgentCardResolver({
        legacyCompat: { enabled: true },
        fetchImpl: (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(cardTimeoutMs) }),
      }),
    }),
  );
}
