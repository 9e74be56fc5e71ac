#!/usr/bin/env node
// Fails when a hand-written source file (TypeScript or JavaScript tracked by git, generated code
// excluded) is longer than 400 lines: a file that long holds more than one idea; split it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_LINES = 400;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.cjs', '*.js'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.includes('/generated/') && !f.startsWith('node_modules/'));
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // deleted in the work tree
  }
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) long.push(`${file}: ${lines} lines`);
}
if (long.length > 0) {
  console.error(`Source files over ${MAX_LINES} lines (split them):\n  ${long.join('\n  ')}`);
  process.exit(1);
}
console.log(`${files.length} source files, none over ${MAX_LINES} lines`);
