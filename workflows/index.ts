/** Workflow entry point bundled by the worker. */
export { pipelineWorkflow } from './pipeline.js';
export { trainVariantWorkflow } from './train-variant.js';
export { nightlyReproductionWorkflow } from './nightly.js';
