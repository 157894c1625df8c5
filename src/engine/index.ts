/** The one way the rest of spoon gets an Engine: loaded on first use, so commands that never need it never pay for it. */
import type { Engine } from './engine.js';
import type { EngineEndpoint } from './endpoint.js';

export async function connectEngine(endpoint: EngineEndpoint, observe?: (line: string) => void): Promise<Engine> {
  const { DockerEngine } = await import('./docker/docker-engine.js');
  return new DockerEngine(endpoint, observe);
}
