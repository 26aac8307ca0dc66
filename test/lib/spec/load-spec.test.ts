import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpecText, SpecError } from '../../../lib/spec/load-spec.js';
import { presetSpec, parseSetOptions } from '../../../lib/spec/resolve-spec.js';
import { PRESET_NAMES } from '../../../schemas/presets.js';

const VALID = `
name: mini
model:
  source: gemma-3-270m
  layer: 6
corpus:
  source: demo
tokens:
  train: 4096
  eval: 1024
sae:
  dSae: 1024
  variants:
    - variant: atr
train:
  batchSize: 512
  warmupSteps: 2
`;

test('a valid spec parses with defaults filled in', () => {
  const spec = parseSpecText(VALID, 'mini.yaml');
  assert.equal(spec.tokenize.contextLength, 128);
  assert.equal(spec.train.lr, 5e-4);
  assert.equal(spec.train.batchSize, 512);
  assert.equal(spec.device, 'cpu');
  assert.deepEqual(spec.evaluate.families, ['core', 'absorption', 'sparse_probing', 'temporal']);
});

test('every bad field is named with its line and reason', () => {
  const bad = VALID.replace('layer: 6', 'layer: -1').replace('variant: atr', 'variant: relu').replace('batchSize: 512', 'batchSize: 512\n  colour: red');
  try {
    parseSpecText(bad, 'bad.yaml');
    assert.fail('expected a SpecError');
  } catch (error) {
    assert.ok(error instanceof SpecError);
    const byField = Object.fromEntries(error.issues.map((i) => [i.field, i]));
    assert.deepEqual(Object.keys(byField).sort(), ['model.layer', 'sae.variants.0.variant', 'train']);
    assert.equal(byField['model.layer'].line, 5);
    assert.match(byField['sae.variants.0.variant'].message, /standard.*atr/);
    assert.match(byField['train'].message, /unknown field 'colour'/);
    assert.match(error.message, /bad\.yaml:5: model\.layer/);
  }
});

test('trainer rules are checked per variant and reported at the spec field they came from', () => {
  const bad = VALID.replace('warmupSteps: 2', 'warmupSteps: 50').replace('    - variant: atr', '    - variant: topk\n      hyperparameters:\n        k: 5000');
  assert.throws(() => parseSpecText(bad, 'x.yaml'), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.deepEqual(e.issues.map((i) => i.field).sort(), ['sae.variants.0.hyperparameters.k', 'train.warmupSteps']);
    assert.match(e.message, /topk: warmupSteps \(50\) must be below steps \(8\)/);
    return true;
  });
});

test('cross-field rules: duplicate variant labels and a budget smaller than one batch', () => {
  const bad = VALID.replace('    - variant: atr', '    - variant: atr\n    - variant: atr').replace('train: 4096', 'train: 100');
  assert.throws(() => parseSpecText(bad, 'x.yaml'), (e: unknown) => e instanceof SpecError && e.issues.some((i) => i.field === 'sae.variants.1.name') && e.issues.some((i) => i.field === 'tokens.train'));
});

test('YAML syntax errors carry their line', () => {
  assert.throws(() => parseSpecText('name: [unclosed\nmodel: {', 'broken.yaml'), (e: unknown) => e instanceof SpecError && e.issues[0].line !== undefined);
});

test('presets validate, paper preset carries the paper settings', () => {
  const corpusHere = { 'corpus.source': 'test' }; // any existing folder: the paper's Pile path is the user's
  for (const name of PRESET_NAMES) assert.equal(presetSpec(name, corpusHere).preset, name);
  assert.throws(() => presetSpec('paper'), (e: unknown) => e instanceof SpecError && e.issues[0].field === 'corpus.source');
  const paper = presetSpec('paper', corpusHere);
  assert.equal(paper.model.layer, 12);
  assert.equal(paper.sae.dSae, 65536);
  assert.equal(paper.tokens.train, 10_000_000);
  assert.equal(paper.tokenize.contextLength, 128);
  assert.equal(paper.train.batchSize, 2048);
  assert.equal(paper.train.warmupSteps, 2000);
  assert.equal(paper.train.gradClip, 0.1);
});

test('--set overrides are parsed as YAML scalars and validated', () => {
  assert.deepEqual(parseSetOptions(['tokens.train=1000', 'device=cuda', 'evaluate.families=[core]']), {
    'tokens.train': 1000,
    device: 'cuda',
    'evaluate.families': ['core'],
  });
  assert.throws(() => presetSpec('demo', { device: 'tpu' }), (e: unknown) => e instanceof SpecError && e.issues[0].field === 'device');
  assert.throws(() => presetSpec('nope'), /unknown preset 'nope'; allowed: paper, demo, study, smoke/);
});
