/**
 * The execution devices onnxruntime-node can be asked for, in one place: the spec schema, the
 * CLI options and the onnxruntime backend all read this list.
 */
export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
