/**
 * A process that launches a server and then goes away without stopping it, for the test that no
 * server outlives irpo: `launch-child.ts <server.mjs> <pidfile> <log> exit|throw|wait`. Prints
 * `ready` once the server answers; `wait` then idles until a signal ends it.
 */
import { launchEngine } from '../src/launch-engine.js';

const [server, pidFile, logFile, how] = process.argv.slice(2);
await launchEngine({ command: `${process.execPath} ${server} --port {port} --grandchild ${pidFile}`, model: 'm', logFile });
process.stdout.write('ready\n');
if (how === 'exit') process.exit(0);
if (how === 'throw') throw new Error('crash after launch');
setInterval(() => {}, 1000);
