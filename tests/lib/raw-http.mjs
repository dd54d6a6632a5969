// HTTP at the byte level, for what an ordinary client cannot send: raw requests on a new
// connection, the responses parsed out of a byte stream, connections opened and held.
import { connect } from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// exchange PORT TIMEOUT SEND: a new connection; SEND(sock, st) writes once it is connected (and
// stops when st.done; st.sent counts body bytes). Resolves with everything the server sent, how
// the connection ended ("eof", "reset", "timeout"), the bytes sent and the parsed responses.
function exchange(port, timeout, send) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sock = connect({ host: '127.0.0.1', port });
    const chunks = [];
    const st = { done: false, sent: 0 };
    const finish = (end) => {
      if (st.done) return;
      st.done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      resolve({ end, sent: st.sent, ms: performance.now() - t0, raw: buf, responses: parseResponses(buf) });
    };
    const timer = setTimeout(() => finish('timeout'), timeout);
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => finish('eof'));
    sock.on('error', (e) => finish(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : e.code || 'error'));
    sock.on('connect', () => send(sock, st));
  });
}

// Raw bytes on a new connection (pieces: written 20 ms apart; halfClose: then shut the writing
// side).
export function raw(port, data, { timeout = 3000, halfClose = false, pieces } = {}) {
  return exchange(port, timeout, async (sock, st) => {
    for (const p of pieces || [data]) {
      if (st.done) return;
      sock.write(p);
      if (pieces) await sleep(20);
    }
    if (halfClose) sock.end();
  });
}

// A client that keeps sending its body (TOTAL bytes of "x" after HEAD, in PIECE-sized writes), as
// nginx does, and reads whatever comes back.
export function sendBody(port, head, total, { piece = 16384, timeout = 8000 } = {}) {
  return exchange(port, timeout, (sock, st) => {
    const pump = () => {
      while (!st.done && st.sent < total) {
        const n = Math.min(piece, total - st.sent);
        st.sent += n;
        if (!sock.write(Buffer.alloc(n, 'x'))) return sock.once('drain', pump);
      }
      return undefined;
    };
    sock.write(head);
    pump();
  });
}

// HTTP/1.1 responses in a byte stream: status, lower-case headers, body (Content-Length only).
export function parseResponses(buf) {
  const out = [];
  let p = 0;
  while (p < buf.length) {
    const end = buf.indexOf('\r\n\r\n', p);
    if (end < 0 || buf.toString('latin1', p, p + 5) !== 'HTTP/') break;
    const lines = buf.toString('latin1', p, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] === undefined ? l.slice(i + 1).trim() : `${headers[k]}, ${l.slice(i + 1).trim()}`;
    }
    const len = Number(headers['content-length'] ?? 0);
    let bodyStart = end + 4;
    // A HEAD answer announces a length without a body; so does MHD's doubled error header.
    if (len > 0 && buf.toString('latin1', bodyStart, bodyStart + 5) === 'HTTP/' &&
        buf.toString('latin1', bodyStart + len, bodyStart + len + 5) !== 'HTTP/') {
      out.push({ status, headers, body: '' });
      p = bodyStart;
      continue;
    }
    out.push({ status, headers, body: buf.toString('utf8', bodyStart, bodyStart + len) });
    p = bodyStart + len;
  }
  return out;
}

// Open a plain TCP connection and keep it; resolves once connected (or failed).
export function hold(port) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const st = { sock, closedAt: 0, error: null, data: [] };
    sock.on('connect', () => resolve(st));
    sock.on('data', (c) => st.data.push(c));
    sock.on('close', () => { st.closedAt = performance.now(); resolve(st); });
    sock.on('error', (e) => { st.error = e.code; });
  });
}
