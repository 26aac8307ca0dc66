/**
 * Evaluation schemas: the config of each family (eval-config.ts, `spec.evaluate.options`) and
 * the outputs (eval-outputs.ts: one SAEBench-shaped JSON per family per SAE with error bars, the
 * run-level splice.json, the run's metrics.json). Definitions behind every number:
 * stages/evaluate/* and metrics.md.
 */
export * from './eval-config.js';
export * from './eval-outputs.js';
