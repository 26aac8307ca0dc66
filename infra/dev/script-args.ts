/** Argument parsing shared by the dev screenshot scripts: `--name value` options and positionals. */
export function scriptArgs(argv: string[]): { positional: string[]; option: (name: string, fallback: string) => string } {
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) i++;
    else positional.push(argv[i]);
  }
  return {
    positional,
    option: (name, fallback) => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
    },
  };
}
