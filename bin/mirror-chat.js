#!/usr/bin/env node
/**
 * The `mirror-chat` command (package.json "bin", so `npx mirror-chat …` works in a checkout). Where the TypeScript
 * sources and tsx (a dev dependency) are both there, that is a checkout: it runs the sources, so it works right after
 * `npm ci` and never runs a dist/ older than them. Elsewhere (an installed package, the Docker image) it runs the
 * build in dist/.
 */
import { existsSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const sources = new URL('src/cli/main.ts', root);
const built = new URL('dist/cli/main.js', root);

const tsx = existsSync(sources)
  ? await import('tsx/esm/api').catch((error) => {
      if (error.code === 'ERR_MODULE_NOT_FOUND') return null;
      throw error;
    })
  : null;

if (tsx) {
  tsx.register();
  await import(sources.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  console.error('mirror-chat: neither the sources with tsx (npm ci) nor a build (npm run build) are here');
  process.exit(1);
}
