/**
 * Labels shared by workflows, the CLI and the report. Plain functions without zod: the
 * workflow bundle imports this module, and must not pull the schemas in.
 */

/** Label of a variant in reports, workflow ids and activity ids: its name, or the variant type. */
export function variantLabel(variant: { name?: string; variant: string }): string {
  return variant.name ?? variant.variant;
}
