/** Workflow entry point bundled by the worker. */
export { pipelineWorkflow } from './pipeline.js';
export { trainVariantWorkflow } from './train-variant.js';
export { fanOutWorkflow } from './fan-out.js';
export { nightlyReproductionWorkflow } from './nightly.js';
