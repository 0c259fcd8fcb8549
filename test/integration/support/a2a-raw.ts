// A2A v0.3 JSON-RPC `message/send` by hand (no SDK, no agent-card lookup, no A2A-Version
// header): what a plain v0.3 client sends, and enough when only a published port is known.
export function postMessageV03(url: string, text: string, opts: { messageId?: string; timeoutMs?: number } = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'message/send',
      params: {
        message: { kind: 'message', messageId: opts.messageId ?? `m-${Date.now()}`, role: 'user', parts: [{ kind: 'text', text }] },
      },
    }),
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
}
