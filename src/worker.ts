// Entry point of background workers (archive deployments run here in a later issue).
export {}
