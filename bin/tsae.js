#!/usr/bin/env node
// Entry point of the `tsae` command; the TypeScript sources are compiled to dist/ by `npm install`.
import { main } from '../dist/infra/cli/cli.js';

const code = await main(process.argv);
process.exit(code);
