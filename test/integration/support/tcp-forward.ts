// Forwards a TCP port on one local address to another. The Temporal dev server's internal
// services only work when it listens on loopback, so the simulated hosts (network namespaces)
// reach it through this forwarder on the bridge address, as real hosts would reach a server.
// It runs as its own process: the tests block their own event loop while the CLI runs.
import { spawn, type ChildProcess } from 'node:child_process';

const program = `
const net = require('node:net');
const [host, port, toHost, toPort] = process.argv.slice(1);
net.createServer((inbound) => {
  const outbound = net.connect(Number(toPort), toHost);
  inbound.pipe(outbound).pipe(inbound);
  const close = () => (inbound.destroy(), outbound.destroy());
  inbound.on('error', close);
  outbound.on('error', close);
}).listen(Number(port), host, () => console.log('forwarding'));
`;

export async function forwardTcp(listen: { host: string; port: number }, to: { host: string; port: number }): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', program, listen.host, String(listen.port), to.host, String(to.port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`forwarder exited with ${code}`)));
  });
  return child;
}
