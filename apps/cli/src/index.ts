export { run, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './cli.js';
