/**
 * Values derived from a spec, as plain functions without zod: the workflow bundle imports this
 * module and must not pull the schemas in; stages and the CLI use the same functions.
 */

/** Label of a variant in reports, workflow ids and activity ids: its name, or the variant type. */
export function variantLabel(variant: { name?: string; variant: string }): string {
  return variant.name ?? variant.variant;
}

/** Training tokens the run needs: none when it only evaluates external SAEs. */
export function trainBudget(spec: { tokens: { train: number }; sae: { variants: readonly unknown[] } }): number {
  return spec.sae.variants.length ? spec.tokens.train : 0;
}
