/**
 * Writes docs/run-spec.md, the reference of every run-spec field (type, default, description),
 * from the zod schemas themselves (zod's JSON Schema export), so the docs cannot drift.
 *   npx tsx infra/dev/docs/gen-spec-reference.ts
 * test/schemas/spec-reference.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { EvalOptions } from '../../../schemas/eval.js';
import { RunSpecBase } from '../../../schemas/run-spec.js';
import { TRAIN_VARIANTS, TrainConfig } from '../../../schemas/train.js';
import { projectPath } from '../../../lib/core/package-root.js';

type Json = Record<string, any>;

function rows(schema: Json, prefix: string, out: string[][]): void {
  const props = schema.properties as Record<string, Json> | undefined;
  if (!props) return;
  for (const [name, prop] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const inner = prop.anyOf?.find((p: Json) => p.type !== 'null') ?? prop;
    if (inner.type === 'object' && inner.properties) {
      out.push([path, 'object', '', prop.description ?? inner.description ?? '']);
      rows(inner, path, out);
      continue;
    }
    const type = inner.enum ? inner.enum.map((v: unknown) => JSON.stringify(v)).join(' \\| ') : inner.type === 'array' ? `${inner.items?.type ?? 'any'}[]` : String(inner.type ?? (inner.const !== undefined ? JSON.stringify(inner.const) : 'any'));
    const nullable = prop.anyOf?.some((p: Json) => p.type === 'null') ? ' \\| null' : '';
    out.push([path, type + nullable, prop.default === undefined ? '' : JSON.stringify(prop.default), (prop.description ?? inner.description ?? '').replace(/\|/g, '\\|')]);
  }
}

function table(schema: z.ZodType, prefix = ''): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const out: string[][] = [];
  rows(json, prefix, out);
  return ['| field | type | default | description |', '| --- | --- | --- | --- |', ...out.map((r) => `| \`${r[0]}\` | ${r[1]} | ${r[2] ? `\`${r[2]}\`` : ''} | ${r[3]} |`)].join('\n');
}

export function specReference(): string {
  const variants = TrainConfig.options
    .map((option, i) => `### \`${TRAIN_VARIANTS[i]}\`\n\n${table(option)}`)
    .join('\n\n');
  return `# Run spec reference

Generated from the zod schemas by \`npx tsx infra/dev/docs/gen-spec-reference.ts\`; do not edit by hand.
A spec is YAML or JSON; \`tsae validate <spec>\` prints it with every default filled in, and any
field can be overridden on the command line with \`--set path=value\`. Presets: \`paper\`, \`demo\`,
\`smoke\` (schemas/presets.ts).

## Run spec (schemas/run-spec.ts)

${table(RunSpecBase)}

## Eval options (\`evaluate.options\`, schemas/eval.ts)

${table(EvalOptions, 'evaluate.options')}

## Trainer configs (schemas/train.ts)

Each variant's trainer config is built from the spec: \`dSae\` from \`sae.dSae\`, \`steps\` from
\`tokens.train / train.batchSize\`, the \`train\` section's fields, then \`train.hyperparameters\`,
then the variant's own \`hyperparameters\` (later wins). Any field below can be set in either
hyperparameters map.

${variants}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(projectPath('docs', 'run-spec.md'), specReference());
  console.log('wrote docs/run-spec.md');
}
