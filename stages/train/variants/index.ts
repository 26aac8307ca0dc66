/** The variant registry: the trainer looks variants up by name and imports none of them itself. */
import type { TrainVariant } from '../../../schemas/train.js';
import { TRAIN_VARIANTS } from '../../../schemas/train.js';
import { badConfig } from '../../../lib/core/errors.js';
import { atrVariant } from './atr.js';
import { batchTopKVariant } from './batchtopk.js';
import { gatedVariant } from './gated.js';
import { jumpReluVariant } from './jumprelu.js';
import { standardVariant } from './standard.js';
import { topkVariant } from './topk.js';
import type { Variant } from './types.js';

const VARIANTS: Record<TrainVariant, Variant> = {
  standard: standardVariant,
  topk: topkVariant,
  batchtopk: batchTopKVariant,
  jumprelu: jumpReluVariant,
  gated: gatedVariant,
  atr: atrVariant,
};

export function variantFor(name: string): Variant {
  const variant = VARIANTS[name as TrainVariant];
  if (!variant) throw badConfig(`Unknown SAE variant '${name}'; allowed: ${TRAIN_VARIANTS.join(', ')}`);
  return variant;
}

export type { Variant } from './types.js';
