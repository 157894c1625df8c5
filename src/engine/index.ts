/** The one way the rest of spoon gets an Engine: loaded on first use, so commands that never need it never pay for it. */
import type { Engine } from './engine.js';
import type { EngineEndpoint } from './endpoint.js';

/** Which implementation speaks to the engine: plain containers (Docker, Podman) or Swarm services. */
export type Backend = 'docker' | 'swarm';

export async function connectEngine(endpoint: EngineEndpoint, observe?: (line: string) => void, backend: Backend = 'docker'): Promise<Engine> {
  if (backend === 'swarm') {
    const { SwarmEngine } = await import('./swarm/swarm-engine.js');
    return new SwarmEngine(endpoint, observe);
  }
  const { DockerEngine } = await import('./docker/docker-engine.js');
  return new DockerEngine(endpoint, observe);
}
