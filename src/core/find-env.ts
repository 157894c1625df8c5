/** Finding an env's container: by its name first (one request), then by label. */
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { RuntimeError } from '../errors.js';
import { LABEL, envNameOf } from './labels.js';
import { containerName } from './names.js';

export async function findEnv(engine: Engine, name: string, prefix: string): Promise<ContainerInfo | undefined> {
  const cname = containerName(prefix, name);
  const byName = await engine.inspectContainer(cname);
  if (byName) {
    if (envNameOf(byName) === name) return byName;
    throw new RuntimeError(`a container named ${cname} exists but is not a spoon environment`, {
      hint: 'spoon only touches containers it labelled; rename or remove that container, or choose another prefix',
    });
  }
  // Created under another prefix: spoon finds its containers by label, not by name.
  const [labelled] = await engine.listContainers({ [LABEL.name]: name });
  return labelled ? engine.inspectContainer(labelled.id) : undefined;
}
