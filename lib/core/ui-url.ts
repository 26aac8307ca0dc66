/**
 * Links into the Temporal Web UI. The base is `TSAE_UI_URL`, else the frontend address with the
 * port + 1000 (the dev server's convention: gRPC 7233, UI 8233).
 */
export function uiBase(address: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.TSAE_UI_URL ?? `http://${address.replace(/:(\d+)$/, (_, port) => ':' + (Number(port) + 1000))}`;
}

/** The UI path of a workflow (relative to the base): workflows compute it, processes add the base. */
export function workflowUiPath(namespace: string, workflowId: string): string {
  return `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
