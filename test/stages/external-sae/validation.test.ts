/**
 * Bad external SAE folders are refused with TsaeError BAD_INPUT (the files) or BAD_CONFIG (a
 * mismatch with the run), naming the file and the field: missing files, unknown architectures,
 * d_in against d_model, the hook against the layer, dtypes, normalisations, tensor shapes, and
 * checkpoints whose pickle would run code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalSaeEntry } from '../../../schemas/external-sae.js';
import { TsaeError, type ErrorCode } from '../../../lib/core/errors.js';
import { inspectExternalSae, type InspectOptions } from '../../../stages/external-sae/inspect-external-sae.js';
import { loadImportedSae } from '../../../stages/external-sae/imported-sae-runtime.js';
import { layerOfHook } from '../../../stages/external-sae/hook-point.js';
import { readSafetensors, writeSafetensors } from '../../../stages/train/safetensors.js';
import { FIXTURES_DIR } from './helpers.js';

const SAELENS = join(FIXTURES_DIR, 'saelens-standard', 'sae');
const TOPK = join(FIXTURES_DIR, 'saelens-topk-rescaled-normrescale', 'sae');
const SPARSIFY = join(FIXTURES_DIR, 'sparsify-topk', 'layers.2');
const DICTIONARY = join(FIXTURES_DIR, 'dictionary-learning-AutoEncoder', 'trainer_0');

/** A writable copy of a fixture folder (same folder name, so sparsify keeps its hookpoint). */
async function copyOf(source: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'ext-bad-')), source.split('/').at(-1)!);
  await cp(source, dir, { recursive: true });
  return dir;
}

async function editJson(path: string, edit: (cfg: Record<string, any>) => void): Promise<void> {
  const cfg = JSON.parse(await readFile(path, 'utf8'));
  edit(cfg);
  await writeFile(path, JSON.stringify(cfg));
}

async function rejects(folder: string, options: InspectOptions, code: ErrorCode, message: RegExp, file?: string): Promise<void> {
  await assert.rejects(inspectExternalSae(folder, options), (error: unknown) => {
    assert.ok(error instanceof TsaeError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    if (file) assert.ok(error.message.startsWith(join(folder, file)), `names ${file}: ${error.message}`);
    return true;
  });
}

const RUN = { dModel: 8, layer: 2 };

test('missing folder, empty folder, missing cfg.json, missing weights, broken JSON', async () => {
  await rejects('/nonexistent/sae', RUN, 'BAD_INPUT', /external SAE folder does not exist/);
  const empty = await mkdtemp(join(tmpdir(), 'ext-empty-'));
  await rejects(empty, RUN, 'BAD_INPUT', /cfg\.json: missing; no SAE checkpoint found .*SAELens: cfg\.json \+ sae_weights\.safetensors/, 'cfg.json');
  const noCfg = await copyOf(SAELENS);
  await rm(join(noCfg, 'cfg.json'));
  await rejects(noCfg, RUN, 'BAD_INPUT', /cfg\.json: missing \(a SAELens folder needs cfg\.json/, 'cfg.json');
  const noWeights = await copyOf(SAELENS);
  await rm(join(noWeights, 'sae_weights.safetensors'));
  await rejects(noWeights, RUN, 'BAD_INPUT', /sae_weights\.safetensors: missing/, 'sae_weights.safetensors');
  const broken = await copyOf(SAELENS);
  await writeFile(join(broken, 'cfg.json'), '{"architecture": "standard",');
  await rejects(broken, RUN, 'BAD_INPUT', /cfg\.json: not valid JSON/, 'cfg.json');
  await rejects(DICTIONARY, { ...RUN, format: 'saelens' }, 'BAD_INPUT', /cfg\.json: missing/, 'cfg.json');
});

test('unknown architectures are refused naming the field and the supported ones', async () => {
  const dir = await copyOf(SAELENS);
  await editJson(join(dir, 'cfg.json'), (c) => (c.architecture = 'matryoshka_batchtopk'));
  await rejects(dir, RUN, 'BAD_INPUT', /field 'architecture' is "matryoshka_batchtopk"; supported: standard, topk, jumprelu, gated/, 'cfg.json');
  await editJson(join(dir, 'cfg.json'), (c) => (c.architecture = 'batchtopk'));
  await rejects(dir, RUN, 'BAD_INPUT', /BatchTopK training config: SAELens saves BatchTopK SAEs for inference as jumprelu/);
  const dl = await copyOf(DICTIONARY);
  await editJson(join(dl, 'config.json'), (c) => (c.trainer.dict_class = 'CrossCoder'));
  await rejects(dl, RUN, 'BAD_INPUT', /field 'trainer\.dict_class' is "CrossCoder"; supported: AutoEncoder, AutoEncoderNew, GatedAutoEncoder/, 'config.json');
});

test("d_in against the model's d_model, and the hook against the spec's layer (BAD_CONFIG)", async () => {
  await rejects(SAELENS, { dModel: 640, layer: 2 }, 'BAD_CONFIG', /field 'd_in' is 8 but the model's d_model is 640/, 'cfg.json');
  await rejects(DICTIONARY, { dModel: 640, layer: 2 }, 'BAD_CONFIG', /field 'trainer\.activation_dim' is 8 but the model's d_model is 640/, 'config.json');
  await rejects(SAELENS, { dModel: 8, layer: 6 }, 'BAD_CONFIG', /field 'metadata\.hook_name' is 'blocks\.2\.hook_resid_post' \(layer 2\) but the spec's layer is 6 \(blocks\.6\.hook_resid_post\)/, 'cfg.json');
  await rejects(SPARSIFY, { dModel: 8, layer: 3 }, 'BAD_CONFIG', /field 'folder name \(sparsify's hookpoint\)' is 'layers\.2' \(layer 2\) but the spec's layer is 3/, 'cfg.json');
  const mlp = await copyOf(SAELENS);
  await editJson(join(mlp, 'cfg.json'), (c) => (c.metadata.hook_name = 'blocks.2.hook_mlp_out'));
  await rejects(mlp, RUN, 'BAD_CONFIG', /'blocks\.2\.hook_mlp_out', not a residual stream after a block/, 'cfg.json');
  const pre = await copyOf(SAELENS);
  await editJson(join(pre, 'cfg.json'), (c) => (c.metadata.hook_name = 'blocks.3.hook_resid_pre'));
  assert.equal((await inspectExternalSae(pre, RUN)).hookName, 'blocks.2.hook_resid_post', 'the next block input is the same tensor');
});

test('a checkpoint without a hook needs the entry hookName, which must agree when both exist', async () => {
  const dir = await copyOf(SAELENS);
  await editJson(join(dir, 'cfg.json'), (c) => delete c.metadata.hook_name);
  await rejects(dir, RUN, 'BAD_CONFIG', /field 'metadata\.hook_name' is missing, so the hooked activation is unknown; give the spec entry a hookName/, 'cfg.json');
  const info = await inspectExternalSae(dir, { ...RUN, hookName: 'blocks.2.hook_resid_post' });
  assert.equal(info.layer, 2);
  await rejects(SAELENS, { ...RUN, hookName: 'blocks.5.hook_resid_post' }, 'BAD_CONFIG', /is 'blocks\.2\.hook_resid_post' but the spec entry's hookName is 'blocks\.5\.hook_resid_post'/);
  const renamed = join(await mkdtemp(join(tmpdir(), 'ext-ren-')), 'my-sae');
  await cp(SPARSIFY, renamed, { recursive: true });
  await rejects(renamed, RUN, 'BAD_CONFIG', /field 'folder name \(sparsify's hookpoint\)' is missing, so the hooked activation is unknown/, 'cfg.json');
  assert.equal((await inspectExternalSae(renamed, { ...RUN, hookName: 'layers.2' })).layer, 2);
});

test('dtypes, normalisations and reshapes the runtime cannot honour are refused by field', async () => {
  const cases: [(c: Record<string, any>) => void, RegExp][] = [
    [(c) => (c.dtype = 'int8'), /field 'dtype' is "int8"; supported: float32, float16, bfloat16, float64/],
    [(c) => (c.normalize_activations = 'expected_average_only_in'), /field 'normalize_activations' is 'expected_average_only_in': its scaling factor is not in the folder; fold it first/],
    [(c) => (c.normalize_activations = 'covariance_whitening'), /field 'normalize_activations' is 'covariance_whitening'/],
    [(c) => (c.reshape_activations = 'hook_z'), /field 'reshape_activations' is 'hook_z'/],
    [(c) => (c.metadata.hook_head_index = 3), /field 'hook_head_index' is 3/],
    [(c) => (c.d_in = 0), /field 'd_in' must be a positive integer/],
    [(c) => (c.apply_b_dec_to_input = 'yes'), /field 'apply_b_dec_to_input' must be true or false/],
  ];
  for (const [edit, message] of cases) {
    const dir = await copyOf(SAELENS);
    await editJson(join(dir, 'cfg.json'), edit);
    await rejects(dir, RUN, 'BAD_INPUT', message, 'cfg.json');
  }
  const topk = await copyOf(TOPK);
  await editJson(join(topk, 'cfg.json'), (c) => delete c.k);
  await rejects(topk, RUN, 'BAD_INPUT', /field 'k' must be a positive integer/, 'cfg.json');
});

test('tensor shapes are checked against d_in/d_sae, and unknown tensors are not ignored', async () => {
  const dir = await copyOf(SAELENS);
  await editJson(join(dir, 'cfg.json'), (c) => (c.d_sae = 30));
  await rejects(dir, RUN, 'BAD_INPUT', /tensor 'W_enc' has shape \[8,24\]; a SAELens standard SAE with d_in 8 and d_sae 30 needs \[8,30\]/, 'sae_weights.safetensors');
  const extra = await copyOf(SAELENS);
  const path = join(extra, 'sae_weights.safetensors');
  const { tensors } = await readSafetensors(path);
  await writeSafetensors(path, { ...tensors, log_threshold: { data: new Float32Array(24), shape: [24] } });
  await rejects(extra, RUN, 'BAD_INPUT', /tensor\(s\) 'log_threshold' are not part of a SAELens standard SAE/, 'sae_weights.safetensors');
  const missing = await copyOf(SAELENS);
  const { tensors: t2 } = await readSafetensors(join(missing, 'sae_weights.safetensors'));
  delete t2.b_enc;
  await writeSafetensors(join(missing, 'sae_weights.safetensors'), t2);
  await rejects(missing, RUN, 'BAD_INPUT', /tensor 'b_enc' is missing/, 'sae_weights.safetensors');
});

test('sparsify options that are not an autoencoder of one activation are refused', async () => {
  for (const [field, value] of [['activation', 'groupmax'], ['transcode', true], ['skip_connection', true]] as const) {
    const dir = await copyOf(SPARSIFY);
    await editJson(join(dir, 'cfg.json'), (c) => (c[field] = value));
    await rejects(dir, RUN, 'BAD_INPUT', new RegExp(`field '${field}' is ${JSON.stringify(value)}`), 'cfg.json');
  }
});

/** A ZIP of stored entries (CRCs left 0; the reader does not need them). */
function storedZip(entries: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

test('ae.pt: a pickle that names any other callable is refused without running it; legacy files too', async () => {
  const dir = await copyOf(DICTIONARY);
  // GLOBAL 'os system', BINUNICODE 'id', TUPLE1, REDUCE, STOP (protocol 2)
  const evil = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n'), Buffer.from([0x58, 2, 0, 0, 0]), Buffer.from('id'), Buffer.from([0x85, 0x52, 0x2e])]);
  await writeFile(join(dir, 'ae.pt'), storedZip({ 'ae/data.pkl': evil, 'ae/byteorder': Buffer.from('little') }));
  await rejects(dir, RUN, 'BAD_INPUT', /pickle refers to os\.system, which a state dict of tensors does not need; refused/, 'ae.pt');
  await writeFile(join(dir, 'ae.pt'), Buffer.from([0x80, 0x02, 0x8a, 0x0a]));
  await rejects(dir, RUN, 'BAD_INPUT', /a legacy \(pre-1\.6\) torch\.save file/, 'ae.pt');
  await writeFile(join(dir, 'ae.pt'), Buffer.from('not a zip at all'));
  await rejects(dir, RUN, 'BAD_INPUT', /not a readable ZIP archive/, 'ae.pt');
});

test('loadImportedSae refuses a folder that still needs the import folds', async () => {
  const dir = join(FIXTURES_DIR, 'saelens-jumprelu-bf16-nobdec', 'sae');
  await assert.rejects(loadImportedSae(dir), /field 'apply_b_dec_to_input' is false; import the folder first/);
  await assert.rejects(loadImportedSae(TOPK), /field 'rescale_acts_by_decoder_norm' is true; import the folder first/);
});

test('hook names of SAELens, Hugging Face modules (sparsify) and dictionary_learning map to the block index', () => {
  const table: [string, number | undefined][] = [
    ['blocks.6.hook_resid_post', 6],
    ['blocks.7.hook_resid_pre', 6],
    ['blocks.0.hook_resid_pre', undefined],
    ['layers.6', 6],
    ['model.layers.6', 6],
    ['gpt_neox.layers.6', 6],
    ['transformer.h.6', 6],
    ['resid_post_layer_6', 6],
    ['layers.6.mlp', undefined],
    ['blocks.6.attn.hook_z', undefined],
  ];
  for (const [name, layer] of table) assert.equal(layerOfHook(name), layer, name);
});

test('a folder with no recognisable checkpoint files lists the expected layouts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ext-none-'));
  await mkdir(join(dir, 'nested'));
  await writeFile(join(dir, 'weights.bin'), 'x');
  await rejects(dir, RUN, 'BAD_INPUT', /sparsify: cfg\.json \+ sae\.safetensors; dictionary_learning: config\.json \+ ae\.pt/);
});

test('spec entries: a label, a path, an optional format and hook; nothing else', () => {
  assert.deepEqual(ExternalSaeEntry.parse({ name: 'gemma-scope_16k', path: './saes/l6' }), { name: 'gemma-scope_16k', path: './saes/l6' });
  assert.equal(ExternalSaeEntry.parse({ name: 'dl.topk', path: 'x', format: 'dictionary_learning', hookName: 'blocks.6.hook_resid_post' }).format, 'dictionary_learning');
  for (const bad of [{ name: 'has space', path: 'x' }, { name: 'ok', path: '' }, { name: 'ok', path: 'x', format: 'pt' }, { name: 'ok', path: 'x', layer: 6 }]) {
    assert.equal(ExternalSaeEntry.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
