/**
 * One measurement case in a child process of its own, so its peak memory (RSS, GPU) and native
 * allocator state belong to that case alone (bench/train.ts, infra/gpu/check/gpu-check.ts). The
 * parent forks the measuring module itself with a flag and the case as JSON; the child runs it,
 * sends the result back over IPC and exits.
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Forks the module at `moduleUrl` (its `import.meta.url`) to run `value` (with an IPC channel in `options.stdio`). */
export function forkCase(moduleUrl: string, flag: string, value: unknown, options: ForkOptions): ChildProcess {
  return fork(fileURLToPath(moduleUrl), [flag, JSON.stringify(value)], options);
}

/**
 * In a child forked by `forkCase` with `flag`: runs its case, sends the result and exits (1 with
 * the stack on stderr when it throws). Returns whether this process is such a child.
 */
export function serveForkedCase<C, R>(flag: string, run: (value: C) => Promise<R>): boolean {
  if (process.argv[2] !== flag || !process.send) return false;
  run(JSON.parse(process.argv[3]) as C)
    .then((result) => process.send!(result, () => process.exit(0)))
    .catch((error) => {
      process.stderr.write(String(error?.stack ?? error) + '\n');
      process.exit(1);
    });
  return true;
}
