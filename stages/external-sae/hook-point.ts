/**
 * Which residual stream a checkpoint's hook names, in the project's convention: layer L is the
 * output of block L, SAELens `blocks.L.hook_resid_post` (stages/model/model-folder.ts hookName).
 * Accepted spellings, all the same tensor:
 *   - TransformerLens / SAELens: blocks.L.hook_resid_post, and blocks.(L+1).hook_resid_pre (the
 *     next block's input is this block's output: TransformerLens HookedTransformer.forward).
 *   - Hugging Face module paths, as EleutherAI sparsify names its hookpoints (the forward-hook
 *     output of decoder layer L): layers.L, model.layers.L, gpt_neox.layers.L, transformer.h.L, h.L.
 *   - dictionary_learning's demo submodule names: resid_post_layer_L.
 */
import { hookName } from '../model/model-folder.js';

const PATTERNS: [RegExp, (n: number) => number][] = [
  [/^blocks\.(\d+)\.hook_resid_post$/, (n) => n],
  [/^blocks\.(\d+)\.hook_resid_pre$/, (n) => n - 1],
  [/^(?:(?:model|base_model\.model|gpt_neox|transformer|language_model|model\.language_model)\.)?(?:layers|h)\.(\d+)$/, (n) => n],
  [/^resid_post_layer_(\d+)$/, (n) => n],
];

/** The block index whose output `name` hooks, or undefined when it is not a residual stream we know. */
export function layerOfHook(name: string): number | undefined {
  for (const [pattern, toLayer] of PATTERNS) {
    const match = pattern.exec(name.trim());
    if (match) {
      const layer = toLayer(Number(match[1]));
      return layer >= 0 ? layer : undefined;
    }
  }
  return undefined;
}

/** The SAELens name of layer L's residual stream (what our own exports write). */
export function residPostHook(layer: number): string {
  return hookName(layer);
}
