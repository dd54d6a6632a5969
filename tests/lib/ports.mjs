// Free loopback ports for the servers the tests start: the one rule for every suite, as
// free_port in scripts/lib.sh for the shell. A port in no use at all, below the kernel's range
// for outgoing connections (ip_local_port_range), where a busy machine's client sockets could
// take it between this check and the server's bind; never port 0, whose answer lies in that
// range. Ports handed out by this process are not handed out again.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function ephemeralLow() {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return low > 11000 ? low : 32768;
  } catch {
    return 32768;
  }
}

const LOW = 10000;
const HIGH = ephemeralLow(); // exclusive
const given = new Set();

function bindable(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (given.has(port)) continue;
    if (await bindable(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${LOW}..${HIGH - 1}`);
}
